"""What the Python client tests share: counted checks and a summary line (no framework, so the
tests need nothing but the `redis` package)."""

import sys

passed = failed = 0


def check(name, got, want):
    global passed, failed
    if got == want:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: got {got!r}, want {want!r}")


def raises(name, exc, fn):
    """Runs fn, which must raise exc: its message, or None (a failed check) otherwise."""
    global passed, failed
    try:
        fn()
    except exc as e:
        passed += 1
        return str(e)
    except Exception as e:  # noqa: BLE001 - report what was raised instead
        failed += 1
        print(f"FAIL {name}: raised {type(e).__name__}: {e}")
        return None
    failed += 1
    print(f"FAIL {name}: no {exc.__name__}")
    return None


def finish(label):
    """Prints the counts and exits non-zero if a check failed."""
    print(f"{label}: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
