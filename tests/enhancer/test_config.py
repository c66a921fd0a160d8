from pathlib import Path

import pytest

from enhancer.config import load_settings, settings_from_mapping
from enhancer.errors import ConfigError


def test_embedded_default_needs_nothing():
    s = settings_from_mapping({})
    assert s.database_kind == "sqlite" and s.storage_kind == "local"
    assert s.database_url == "sqlite:///data/pixel_lab.db" and s.storage_dir == Path("data/storage")
    assert (s.enhanced_images_count, s.max_upload_mb, s.max_batch_size) == (3, 50, 5000)


def test_database_url_wins_over_mysql_vars():
    s = settings_from_mapping({"DATABASE_URL": "mysql://u:p@db/x", "MYSQL_HOST": "other", "MYSQL_DATABASE": "y"})
    assert s.database_url == "mysql+pymysql://u:p@db/x?charset=utf8mb4"


def test_mysql_vars_build_a_pymysql_url():
    s = settings_from_mapping({"MYSQL_HOST": "db", "MYSQL_DATABASE": "catalog", "MYSQL_USER": "app",
                               "MYSQL_PASSWORD": "p@ss:w/rd"})
    assert s.database_url == "mysql+pymysql://app:p%40ss%3Aw%2Frd@db:3306/catalog?charset=utf8mb4"
    assert "p%40ss" not in str(s.masked()) and s.masked()["mysql_password"] == "set (****)"


@pytest.mark.parametrize("env,name", [
    ({"MYSQL_HOST": "db"}, "MYSQL_DATABASE"), ({"MYSQL_HOST": "db", "MYSQL_DATABASE": "x", "MYSQL_PORT": "abc"}, "MYSQL_PORT"),
    ({"ENHANCED_IMAGES_COUNT": "11"}, "ENHANCED_IMAGES_COUNT"), ({"MAX_UPLOAD_MB": "0"}, "MAX_UPLOAD_MB"),
    ({"DATABASE_URL": "postgres://x"}, "DATABASE_URL"), ({"AI_PROVIDER": "openai"}, "AI_PROVIDER"),
    ({"S3_ENDPOINT_URL": "localhost:9000"}, "S3_ENDPOINT_URL"),
])
def test_bad_values_fail_with_the_variable_named(env, name):
    with pytest.raises(ConfigError, match=name):
        settings_from_mapping(env)


def test_sources_layer_dotenv_secrets_environment(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("S3_BUCKET=from-dotenv\nGEMINI_API_KEY=dotenv-key\nMAX_BATCH_SIZE=10\n")
    s = load_settings(environ={"MAX_BATCH_SIZE": "20"}, dotenv_path=dotenv,
                      secrets={"GEMINI_API_KEY": "secret-key", "section": {"ignored": 1}})
    assert s.s3_bucket == "from-dotenv" and s.gemini_api_key == "secret-key" and s.max_batch_size == 20
    masked = s.masked()
    assert "secret-key" not in str(masked) and masked["gemini_api_key"] == "set (****)"


def test_settings_are_frozen():
    s = settings_from_mapping({})
    with pytest.raises(Exception):
        s.s3_bucket = "x"


@pytest.mark.parametrize("url,kept", [
    ("mysql+pymysql://app:hunter22@db:3306/x?charset=utf8mb4", "mysql+pymysql://app:****@db:3306/x?charset=utf8mb4"),
    ("mysql+pymysql:app:hunter22@db/x", "mysql+pymysql:app:****@db/x"),                # no "//"
    ("mysql:/app:hunter22@db/x", "mysql:/app:****@db/x"),                              # one "/"
    ("mysql+pymysql://app@db/x?password=hunter22&charset=utf8mb4",
     "mysql+pymysql://app@db/x?password=****&charset=utf8mb4"),
    ("mysql+pymysql://app@db/x?charset=utf8mb4&passwd=hunter22", "mysql+pymysql://app@db/x?charset=utf8mb4&passwd=****"),
    ("mysql+pymysql://app@db/x?ssl_key=/k/hunter22.pem&api_token=hunter22",
     "mysql+pymysql://app@db/x?ssl_key=****&api_token=****"),
    ("mysql+pymysql://app:p?ss/hunter22@db/x?charset=utf8mb4", "mysql+pymysql://app:****@db/x?charset=utf8mb4"),
    ("mysql+pymysql://app:hunter22@db/x?charset=utf8mb4&Password=hunter22",
     "mysql+pymysql://app:****@db/x?charset=utf8mb4&Password=****"),
    ("sqlite:////srv/data/a@b/pixel_lab.db", "sqlite:////srv/data/a@b/pixel_lab.db"),  # no secrets: unchanged
    ("sqlite:///data/pixel_lab.db", "sqlite:///data/pixel_lab.db"),
])
def test_database_url_is_masked_whatever_its_shape(url, kept):
    s = settings_from_mapping({"DATABASE_URL": url})
    shown = s.masked()["database_url"]
    assert "hunter22" not in shown
    assert shown == kept or shown == kept + "&charset=utf8mb4" or shown == kept + "?charset=utf8mb4"


def test_other_urls_are_masked_too():
    s = settings_from_mapping({"S3_ENDPOINT_URL": "https://minio:hunter22@s3.local:9000",
                               "GEMINI_BASE_URL": "https://gw.local/v1?key=hunter22"})
    assert "hunter22" not in str(s.masked())
    assert s.masked()["s3_endpoint_url"] == "https://minio:****@s3.local:9000"


def test_network_timeouts_are_settings():
    s = settings_from_mapping({"DB_CONNECT_TIMEOUT_S": "3", "DB_TIMEOUT_S": "45", "S3_TIMEOUT_S": "7"})
    assert (s.db_connect_timeout_s, s.db_timeout_s, s.s3_timeout_s) == (3, 45, 7)
    with pytest.raises(ConfigError, match="DB_TIMEOUT_S"):
        settings_from_mapping({"DB_TIMEOUT_S": "0"})
