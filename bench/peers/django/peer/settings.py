"""
Settings of the benchmark peer, as Django's deployment checklist and the DRF, simplejwt, django-redis and Celery
documentation set up a production API. Everything that varies comes from the environment peer.sh exports.
"""
import os
from datetime import timedelta

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# An API only: no admin, sessions or messages. contenttypes and auth for auth.User.
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "ledger",
]

# What a DRF API project keeps of startproject's list: DRF authenticates in its views, so neither sessions,
# CSRF (JWT bearer requests carry no cookie) nor Django's AuthenticationMiddleware are needed.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": os.environ["PEER_PG_PORT"],
        "USER": "postgres",
        "NAME": os.environ["PEER_PG_DATABASE"],
        # Persistent connections (the checklist's advice): longer than any pause of a benchmark run, so each gunicorn
        # worker (one request at a time) keeps its one connection for the whole run instead of connecting per request.
        "CONN_MAX_AGE": 300,
    }
}

# Django 3.2 has no Redis cache of its own; django-redis is what its users install. redis-py parses with hiredis
# when it is installed.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{os.environ['PEER_REDIS_PORT']}/1",
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    # JSON only in production: the browsable API is a development aid.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # DRF keeps a list of request times per client (a sliding log) and reads and writes it whole on each request, so a
    # rate nothing reaches over a minute would make every request slower the longer a benchmark runs; over a second
    # the list, and the cost, stay steady.
    "DEFAULT_THROTTLE_RATES": {"anon": "1000000/second"},
}

SIMPLE_JWT = {
    # Long enough for tokens seeded before a benchmark run to outlive it.
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=3),
}

CELERY_BROKER_URL = f"redis://127.0.0.1:{os.environ['PEER_REDIS_PORT']}/2"
# Nothing reads a generation's task result: its row in PostgreSQL is the result.
CELERY_TASK_IGNORE_RESULT = True

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Warnings and errors to stderr (gunicorn's and Celery's logs); no access log, as gunicorn's default.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
