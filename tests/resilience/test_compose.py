"""docker-compose.yml as `docker compose up --scale web=2 --scale worker=3` needs it:
every long-running service restarts and has a health check, web and worker scale
behind one address, and the proxy is the one whose forwarded addresses are believed."""

from __future__ import annotations

import ipaddress
import shlex
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = [
    "db",
    "web",
    "proxy",
    "worker",
    "escalations",
    "imports",
    "outbox",
    "audit-chain",
]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_each_long_running_service_restarts_and_has_a_health_check(name):
    service = SERVICES[name]
    assert service["restart"] == "unless-stopped"
    assert service["healthcheck"]["test"]


def test_one_off_services_are_not_restarted():
    assert SERVICES["migrate"]["restart"] == "no"
    assert "restart" not in SERVICES["roles"]


@pytest.mark.parametrize("name", ["web", "worker"])
def test_scaled_services_publish_no_port_and_have_no_fixed_name(name):
    assert "ports" not in SERVICES[name]
    assert "container_name" not in SERVICES[name]


def test_one_address_in_front_of_every_web_container():
    assert SERVICES["proxy"]["ports"] == ["8000:8000"]
    caddyfile = (ROOT / "deploy/caddy/Caddyfile").read_text()
    assert "dynamic a web 8000" in caddyfile


def test_only_the_proxy_is_trusted_with_forwarded_addresses():
    proxy = ipaddress.ip_address(
        SERVICES["proxy"]["networks"]["default"]["ipv4_address"]
    )
    [network] = COMPOSE["networks"]["default"]["ipam"]["config"]
    others = ipaddress.ip_network(network["ip_range"])
    assert proxy in ipaddress.ip_network(network["subnet"])
    # No other container can be given the proxy's address.
    assert proxy not in others
    assert COMPOSE["x-environment"]["TRUSTED_PROXIES"] == str(proxy)


def test_the_processes_run_the_commands_that_outlive_outages_and_beat():
    assert shlex.split(SERVICES["worker"]["command"])[2] == "task_worker"
    for name, kind in [
        ("worker", "worker"),
        ("escalations", "escalations"),
        ("imports", "imports"),
    ]:
        assert SERVICES[name]["healthcheck"]["test"][-2:] == ["--here", kind]
    assert "--every" in SERVICES["escalations"]["command"]
    assert "--every" in SERVICES["imports"]["command"]


def test_the_web_health_check_asks_the_web_endpoint():
    script = (ROOT / "deploy/healthcheck.py").read_text()
    assert 'URL = "http://127.0.0.1:8000/health/web/"' in script
    assert SERVICES["web"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "deploy/healthcheck.py",
    ]
