import secrets
import sys

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from ledger.models import Wallet


class Command(BaseCommand):
    help = "Creates users with a wallet each and prints '<user_id>\\t<access_token>' per user."

    def add_arguments(self, parser):
        parser.add_argument("users", type=int)
        parser.add_argument("balance", type=int)

    def handle(self, users, balance, **options):
        # Each run its own names, so seeding twice adds users rather than colliding.
        run = secrets.token_hex(4)
        # An unusable password: hashing 10,000 real ones would take minutes and nothing signs in with them.
        unusable = make_password(None)
        with transaction.atomic():
            created = User.objects.bulk_create(
                [User(username=f"bench-{run}-{n}", password=unusable) for n in range(users)], batch_size=1000
            )
            Wallet.objects.bulk_create([Wallet(user=user, balance=balance) for user in created], batch_size=1000)
        sys.stdout.write("".join(f"{user.id}\t{AccessToken.for_user(user)}\n" for user in created))
