import os

DATABASE = {
    "host": os.environ.get("DB_HOST", "db"),
    "user": os.environ.get("DB_USER", "app"),
}
password = os.environ["DB_PASSWORD"]
api_token = os.getenv("API_TOKEN")
secret_key = os.environ.get("SECRET_KEY", "")
