from django.db import transaction
from django.db.models import F
from django.http import JsonResponse
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .models import Generation, LedgerEntry, Wallet
from .tasks import run_generation

GENERATION_COST = 1


def health(request):
    return JsonResponse({"status": "ok"})


class WhoAmI(APIView):
    """What the bearer token says. JWTAuthentication reads the token's user from the database on each request."""

    permission_classes = [AllowAny]

    def get(self, request):
        if not request.user.is_authenticated:
            return Response({"authenticated": False})
        return Response({"authenticated": True, "user_id": request.user.id})


class ThrottledWhoAmI(WhoAmI):
    """The same, counted by DRF's scoped throttle in the Redis cache."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "anon"


class Me(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        user = request.user
        balance = Wallet.objects.values_list("balance", flat=True).get(user=user)
        return Response({"id": user.id, "username": user.username, "email": user.email, "balance": balance})


def debit(user, amount, kind):
    """Takes amount from the user's wallet if it holds that much, with its ledger row; the caller's transaction."""
    taken = Wallet.objects.filter(user=user, balance__gte=amount).update(balance=F("balance") - amount)
    if taken:
        LedgerEntry.objects.create(user=user, amount=-amount, kind=kind)
    return bool(taken)


INSUFFICIENT_CREDIT = {"code": "insufficient_credit", "detail": "The wallet holds less than the cost."}


class Debit(APIView):
    """One credit off the caller's wallet. The Idempotency-Key is accepted and not stored: DRF has nothing for it."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        with transaction.atomic():
            if not debit(request.user, 1, "bench_debit"):
                return Response(INSUFFICIENT_CREDIT, status=status.HTTP_402_PAYMENT_REQUIRED)
            balance = Wallet.objects.values_list("balance", flat=True).get(user=request.user)
        return Response({"balance": balance})


class GenerationSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["text"])
    prompt = serializers.CharField(max_length=4000)


class CreateGeneration(APIView):
    """Pays for a generation and queues it: the task is sent once the transaction has committed."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        body = GenerationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            if not debit(request.user, GENERATION_COST, "generation"):
                return Response(INSUFFICIENT_CREDIT, status=status.HTTP_402_PAYMENT_REQUIRED)
            generation = Generation.objects.create(user=request.user, cost=GENERATION_COST, **body.validated_data)
            transaction.on_commit(lambda: run_generation.delay(str(generation.id)))
        return Response({"id": generation.id, "status": generation.status}, status=status.HTTP_202_ACCEPTED)
