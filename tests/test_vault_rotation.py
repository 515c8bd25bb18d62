"""Key rotation survives any sequence of interruptions: no credential is ever lost.

An interruption is simulated in-process at each point where a real one (``kill -9``, Ctrl-C,
power cut) could land: while the new key is saved, after it is saved, in the middle of the
re-encryption transaction (rolled back), after that transaction commits, and before the new key
replaces the old. A *kill* runs no clean-up code; an *interrupt* (Ctrl-C) lets it run. Every
operation uses a fresh ``Vault``, as a new process would.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

import hub.vault as vault_mod
from hub.store import Store
from hub.store.models import VaultEntry
from hub.vault import Vault, write_key_file

CRASH_POINTS = (
    "saving-new-key",
    "new-key-saved",
    "mid-reencryption",
    "reencryption-committed",
    "before-key-swap",
)


class Killed(BaseException):
    """The process died here (not an Exception: nothing may swallow it)."""


class CrashingCipher:
    """Lets ``crash_after`` entries be re-encrypted, then dies inside the transaction."""

    def __init__(self, real, crash_after: int) -> None:
        self.real, self.left = real, crash_after

    def rotate(self, token: bytes) -> bytes:
        if self.left <= 0:
            raise Killed("mid-reencryption")
        self.left -= 1
        return self.real.rotate(token)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture
def key_file(tmp_path) -> Path:
    path = tmp_path / "keys" / "vault.key"
    write_key_file(path, Fernet.generate_key())
    return path


def rotate_with_crash(
    monkeypatch, store, key_file: Path, point: str | None, cleanup: bool, rng
) -> None:
    """One ``rotate-key`` run, interrupted at ``point`` (None: runs to the end)."""
    real_write, real_reencrypt, real_replace = (
        vault_mod.write_key_file,
        Vault._reencrypt,
        os.replace,
    )
    with monkeypatch.context() as m:
        if not cleanup:  # a kill: no handler of the dying process runs
            m.setattr(Vault, "_discard_if_unused", lambda *a: None, raising=False)

        def write(path, key):
            if point == "saving-new-key":
                raise Killed(point)
            real_write(path, key)
            if point == "new-key-saved" and path.name.endswith(".next"):
                raise Killed(point)

        def reencrypt(self, cipher):
            if point == "mid-reencryption":
                n = VaultEntry.select().count()
                return real_reencrypt(self, CrashingCipher(cipher, rng.randrange(n + 1)))
            count = real_reencrypt(self, cipher)
            if point == "reencryption-committed":
                raise Killed(point)
            return count

        def replace(src, dst):
            if point == "before-key-swap" and str(src).endswith(".next"):
                raise Killed(point)
            return real_replace(src, dst)

        m.setattr(vault_mod, "write_key_file", write)
        m.setattr(Vault, "_reencrypt", reencrypt)
        m.setattr(os, "replace", replace)
        try:
            Vault(store, key_file).rotate()
        except Killed:
            pass


def assert_all_readable(store, key_file: Path, expected: dict[str, str], context: str) -> None:
    fresh = Vault(store, key_file)  # a new process: keys read from disk
    got = {}
    for name in expected:
        try:
            got[name] = fresh.get(name)
        except Exception as exc:  # report every loss, not just the first
            got[name] = f"<lost: {exc}>"
    assert got == expected, context


@pytest.mark.parametrize("seed", range(8))
def test_random_interruption_sequences_lose_no_credential(seed, store, key_file, monkeypatch):
    rng = random.Random(seed)
    names = [f"cred-{i}" for i in range(6)]
    expected: dict[str, str] = {}
    history = []
    for step in range(30):
        op = rng.choices(["set", "delete", "rotate"], weights=[4, 1, 5])[0]
        if op == "set":
            name = rng.choice(names)
            value = f"secret-{seed}-{step}-{rng.randrange(10**6)}"
            Vault(store, key_file).set(name, value)
            expected[name] = value
            history.append(f"set {name}")
        elif op == "delete" and expected:
            name = rng.choice(sorted(expected))
            Vault(store, key_file).delete(name)
            del expected[name]
            history.append(f"delete {name}")
        else:
            point = rng.choice([None, *CRASH_POINTS])
            cleanup = rng.random() < 0.5
            rotate_with_crash(monkeypatch, store, key_file, point, cleanup, rng)
            history.append(f"rotate ({point or 'completed'}, {'ctrl-c' if cleanup else 'kill'})")
        assert_all_readable(store, key_file, expected, f"seed {seed}: " + "; ".join(history))

    # a last, uninterrupted rotation finishes whatever is pending and retires every old key
    old_keys = [key_file.read_bytes().strip()]
    if Vault(store, key_file).next_key_file.exists():
        old_keys.append(Vault(store, key_file).next_key_file.read_bytes().strip())
    count, new_key = Vault(store, key_file).rotate()
    assert count == len(expected)
    assert key_file.read_bytes().strip() == new_key
    assert not key_file.with_name("vault.key.next").exists()
    assert_all_readable(store, key_file, expected, f"seed {seed} after the final rotation")
    for row in VaultEntry.select():
        for old in old_keys:
            if old != new_key:
                with pytest.raises(InvalidToken):
                    Fernet(old).decrypt(row.ciphertext.encode())


def test_the_reported_double_interruption(store, key_file, monkeypatch):
    """kill -9 after the new key was saved; a credential set; a second rotation interrupted."""
    Vault(store, key_file).set("before", "stored-before-1")
    rotate_with_crash(monkeypatch, store, key_file, "new-key-saved", False, random.Random(0))
    Vault(store, key_file).set("between", "stored-between-2")  # encrypted with vault.key.next
    rotate_with_crash(monkeypatch, store, key_file, "mid-reencryption", True, random.Random(1))
    expected = {"before": "stored-before-1", "between": "stored-between-2"}
    assert_all_readable(store, key_file, expected, "after two interrupted rotations")
    Vault(store, key_file).rotate()
    assert_all_readable(store, key_file, expected, "after the resumed rotation")


def test_a_crash_between_commit_and_swap_then_another_interrupted_rotation(
    store, key_file, monkeypatch
):
    for i in range(30):
        Vault(store, key_file).set(f"c{i}", f"value-number-{i}")
    rotate_with_crash(
        monkeypatch, store, key_file, "reencryption-committed", False, random.Random(0)
    )
    rotate_with_crash(monkeypatch, store, key_file, "new-key-saved", True, random.Random(0))
    rotate_with_crash(monkeypatch, store, key_file, "mid-reencryption", True, random.Random(2))
    expected = {f"c{i}": f"value-number-{i}" for i in range(30)}
    assert_all_readable(store, key_file, expected, "after three interrupted rotations")


def test_an_entry_written_under_the_old_key_meanwhile_keeps_the_old_key(
    store, key_file, monkeypatch
):
    """A writer that loaded the old key before the rotation began must not be orphaned."""
    old_key = key_file.read_bytes().strip()
    Vault(store, key_file).set("a", "first-value-1")
    real_reencrypt = Vault._reencrypt

    def reencrypt_then_a_late_writer(self, cipher):
        count = real_reencrypt(self, cipher)
        late = Vault(store, key_file)
        late._keys = [Fernet(old_key)]  # loaded before vault.key.next existed
        late.set("late", "written-late-2")
        return count

    monkeypatch.setattr(Vault, "_reencrypt", reencrypt_then_a_late_writer)
    with pytest.raises(vault_mod.VaultError, match="rotate-key` again"):
        Vault(store, key_file).rotate()
    monkeypatch.undo()
    expected = {"a": "first-value-1", "late": "written-late-2"}
    assert_all_readable(store, key_file, expected, "old and new key both kept")
    Vault(store, key_file).rotate()
    assert_all_readable(store, key_file, expected, "after the resumed rotation")
    assert key_file.read_bytes().strip() != old_key


def test_env_key_rotation_resumes_with_the_key_file_it_wrote(hubenv, tmp_path, monkeypatch):
    """With HUB_SECRET_KEY: a second rotate-key never overwrites the first one's new key."""
    old = Fernet.generate_key().decode()
    hubenv.write_config()
    assert (
        hubenv.run("creds", "set", "x", input="value-x-1234\n", HUB_SECRET_KEY=old).returncode == 0
    )
    new_file = tmp_path / "new.key"
    first = hubenv.run("creds", "rotate-key", "--write-key", str(new_file), HUB_SECRET_KEY=old)
    assert first.returncode == 0, first.stderr
    first_key = new_file.read_bytes().strip()
    # the operator runs it again before updating HUB_SECRET_KEY: the same key is resumed
    again = hubenv.run("creds", "rotate-key", "--write-key", str(new_file), HUB_SECRET_KEY=old)
    assert again.returncode == 0, again.stderr
    assert "resuming the interrupted rotation" in again.stdout
    assert new_file.read_bytes().strip() == first_key
    # once it is in force, the same file is refused rather than reused
    done = hubenv.run(
        "creds", "rotate-key", "--write-key", str(new_file), HUB_SECRET_KEY=first_key.decode()
    )
    assert done.returncode == 3 and "that rotation is complete" in done.stderr
    assert new_file.read_bytes().strip() == first_key
    listed = hubenv.run("creds", "list", HUB_SECRET_KEY=first_key.decode())
    assert listed.returncode == 0 and listed.stdout.split()[0] == "x"
    monkeypatch.setenv("HUB_SECRET_KEY", first_key.decode())
    store = Store(hubenv.store_url)
    try:
        assert Vault(store, tmp_path / "unused.key").get("x") == "value-x-1234"
    finally:
        store.close()


def test_the_command_resumes_a_pending_rotation(hubenv, monkeypatch):
    hubenv.write_config()
    write_key_file(hubenv.data / "vault.key", Fernet.generate_key())
    assert hubenv.run("creds", "set", "a", input="first-value-1\n").returncode == 0
    store = Store(hubenv.store_url)
    try:
        key_file = hubenv.data / "vault.key"
        rotate_with_crash(monkeypatch, store, key_file, "new-key-saved", False, random.Random(0))
        pending = key_file.with_name("vault.key.next").read_bytes()
        assert hubenv.run("creds", "set", "b", input="second-value-2\n").returncode == 0
        res = hubenv.run("creds", "rotate-key")
        assert res.returncode == 0, res.stderr
        assert f"resuming the interrupted rotation with the key in {key_file}.next" in res.stdout
        assert "re-encrypted 2 credential(s)" in res.stdout
        assert (
            key_file.read_bytes() == pending and not key_file.with_name("vault.key.next").exists()
        )
        expected = {"a": "first-value-1", "b": "second-value-2"}
        assert_all_readable(store, key_file, expected, "after the resumed rotation")
    finally:
        store.close()
