"""The doctor's fixtures (fake iTop with the guide's token user, fake Intercom, a runner that
checks no secret is shown) for every test of the `check` command."""

from tests.ops.test_doctor import intercom, itop, run

__all__ = ["intercom", "itop", "run"]
