"""Encryption at rest and settings."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from batchforge.crypto import KEY_FILE_NAME, SecretBox, load_or_create_key
from batchforge.errors import ConfigurationError
from batchforge.settings import Settings


def test_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path, None)
    path = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path, None) == key


def test_ciphertext_is_bound_to_its_context(tmp_path: Path) -> None:
    box = SecretBox(load_or_create_key(tmp_path, None))
    sealed = box.encrypt("wJalrXUtnFEMI/K7MDENG", "credentials:a")
    assert "wJalr" not in sealed
    assert box.decrypt(sealed, "credentials:a") == "wJalrXUtnFEMI/K7MDENG"
    with pytest.raises(ConfigurationError):
        box.decrypt(sealed, "credentials:b")


def test_another_key_cannot_decrypt(tmp_path: Path) -> None:
    sealed = SecretBox(load_or_create_key(tmp_path / "a", None)).encrypt("s", "c")
    with pytest.raises(ConfigurationError) as caught:
        SecretBox(load_or_create_key(tmp_path / "b", None)).decrypt(sealed, "c")
    assert "encryption key" in str(caught.value)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BATCHFORGE_PORT", "9001")
    monkeypatch.setenv("BATCHFORGE_AWS_MODE", "aws")
    settings = Settings()
    assert settings.data_dir == tmp_path.resolve()
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'batchforge.db'}"
    assert settings.effective_public_url == "http://127.0.0.1:9001"
    assert settings.aws_mode == "aws"


def test_invalid_setting_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHFORGE_AWS_MODE", "cloud")
    with pytest.raises(ValueError, match="aws_mode"):
        Settings()
