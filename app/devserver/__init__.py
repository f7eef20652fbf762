"""What `make run` starts on one machine: embedded Postgres and Redis, migrations, the dev key,
the API and one worker (`python -m app.devserver.launcher`)."""
