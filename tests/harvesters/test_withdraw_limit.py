"""``source.max_withdraw``: how much of a city one complete listing may withdraw, and the override.

A source that answers a truthful-looking ``count: 0`` (a broken filter, a migrated portal)
would otherwise withdraw everything the city published from it. The end-to-end cases are in
``tests/badinput/test_incomplete_listings.py``; here is the rule itself, its config and flag.
"""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from tests.harvesting import DEMO
from vierstaedte_harvest import cli, config
from vierstaedte_harvest.config import WithdrawLimit


# published: datasets the city has from the source; the most one run may withdraw of them
@pytest.mark.parametrize(
    "limit, published, most",
    [
        (WithdrawLimit(), 1, 1),  # default 50 %: one dataset is never a mass withdrawal
        (WithdrawLimit(), 2, 1),
        (WithdrawLimit(), 3, 1),
        (WithdrawLimit(), 4, 2),
        (WithdrawLimit(), 5, 2),
        (WithdrawLimit(), 100, 50),
        (WithdrawLimit(percent=100), 4, 3),  # never all of two or more, whatever the setting
        (WithdrawLimit(percent=100), 1, 1),
        (WithdrawLimit(percent=10), 3, 1),  # a share always allows one
        (WithdrawLimit(number=5), 3, 2),
        (WithdrawLimit(number=5), 100, 5),
        (WithdrawLimit(number=0), 1, 0),  # 0: every withdrawal needs --allow-withdraw
        (WithdrawLimit(number=0), 10, 0),
    ],
)
def test_the_most_a_run_may_withdraw(limit, published, most):
    assert limit.of(published) == most


def test_the_default_is_half():
    assert WithdrawLimit() == WithdrawLimit(percent=50) == WithdrawLimit.parse("50%")
    assert config.load("mainz").max_withdraw == WithdrawLimit()


def mainz_config(folder, max_withdraw):
    path = folder / "mainz.yaml"
    source = {"protocol": "ckan", "url": "https://x", "max_withdraw": max_withdraw}
    path.write_text(yaml.safe_dump({"city": "mainz", "source": source}))
    return path


@pytest.mark.parametrize(
    "value, expected",
    [
        ("75%", WithdrawLimit(percent=75)),
        (" 5 % ", WithdrawLimit(percent=5)),
        ("100%", WithdrawLimit(percent=100)),
        (0, WithdrawLimit(number=0)),
        (12, WithdrawLimit(number=12)),
    ],
)
def test_settings(tmp_path, value, expected):
    loaded = config.load("mainz", mainz_config(tmp_path, value))
    assert loaded.max_withdraw == loaded.source.max_withdraw == expected


@pytest.mark.parametrize("value", [-1, True, 0.5, "0%", "101%", "half", "5", None, [50]])
def test_bad_settings_say_where(tmp_path, value):
    with pytest.raises(config.ConfigError, match=r"mainz\.yaml: source\.max_withdraw must be"):
        config.load("mainz", mainz_config(tmp_path, value))


def test_the_override_is_a_number_on_the_run_command():
    parser = cli.build_parser()
    assert parser.parse_args(["run", "mainz"]).allow_withdraw == 0  # cron never passes it
    assert parser.parse_args(["run", "mainz", "--allow-withdraw", "7"]).allow_withdraw == 7
    for bad in ("0", "-3", "all", "2.5"):
        with pytest.raises(SystemExit):
            parser.parse_args(["run", "mainz", "--allow-withdraw", bad])


@pytest.mark.parametrize("city", ["mainz", "trier", "koblenz", "ludwigshafen"])
def test_the_demo_allows_loopback_and_no_other_private_range(city):
    settings = config.load(city, DEMO / "configs" / f"{city}.yaml").http
    assert settings.allows(ipaddress.ip_address("127.0.0.1"))
    for address in ("10.0.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "127.0.0.2", "::1"):
        assert not settings.allows(ipaddress.ip_address(address)), address
