import pytest
from django.db import connection


@pytest.mark.django_db
def test_django_tables_are_not_in_public():
    with connection.cursor() as cursor:
        cursor.execute("select table_schema from information_schema.tables where table_name = 'django_migrations'")
        assert [row[0] for row in cursor.fetchall()] == ["django"]
