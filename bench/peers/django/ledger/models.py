import uuid

from django.conf import settings
from django.db import models


class Wallet(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet")
    balance = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(check=models.Q(balance__gte=0), name="wallet_balance_non_negative")]


class LedgerEntry(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    amount = models.BigIntegerField()
    kind = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)


class Generation(models.Model):
    QUEUED = "queued"
    SUCCEEDED = "succeeded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    type = models.CharField(max_length=16)
    prompt = models.TextField()
    status = models.CharField(max_length=16, default=QUEUED)
    cost = models.BigIntegerField()
    result = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
