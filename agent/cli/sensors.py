"""Sensors: ``stridewatch scan`` for what is in range, ``pair`` to allow one, ``decode`` for a
GATT payload copied from a sensor (agent/sensors)."""

from __future__ import annotations

from typing import Any

import click

from agent.cli.app import App, config_option, echo_json, json_option, pass_app, say, with_app
from agent.cli.group import command
from agent.errors import InputError


@command("scan", epilog="Example: stridewatch scan --timeout 5 --json")
@click.option(
    "--timeout",
    "timeout_text",
    metavar="S",
    help="Seconds to listen, 0.1-120 (default: sensors.scan_timeout_s, 10).",
)
@json_option
@config_option
@pass_app
def scan(app: App, timeout_text: str | None, as_json: bool) -> None:
    """List footpods and heart-rate straps in range, strongest signal first.

    Allow-listed sensors (the ones stridewatch connects to) are marked; add one with
    `stridewatch pair ADDRESS`.
    """
    import asyncio

    from agent.sensors import ble

    settings = app.settings
    timeout = settings.sensors.scan_timeout_s
    if timeout_text is not None:
        timeout = _parse_seconds(timeout_text, "--timeout", 0.1, 120.0)
    found = asyncio.run(ble.scan(timeout))
    allowed = set(settings.sensors.allow)
    if as_json:
        echo_json([_candidate_json(c, c.address in allowed) for c in found])
    elif not found:
        say(
            f"No footpod or heart-rate strap heard in {timeout:g} s. Wake it (walk a few "
            "steps with the footpod, wet the strap's contacts) and scan again."
        )
    else:
        for c in found:
            mark = "*" if c.address in allowed else " "
            click.echo(f"{mark} {c.address}  {c.kind:<11}  {c.rssi:>4} dBm  {c.name or '-'}")
        click.echo("* = allow-listed. Add a sensor with: stridewatch pair ADDRESS")


def _candidate_json(candidate: Any, allowed: bool) -> dict[str, Any]:
    c = candidate
    return {
        "address": c.address,
        "name": c.name,
        "kind": c.kind,
        "kinds": list(c.kinds),
        "rssi": c.rssi,
        "allowed": allowed,
    }


def _parse_seconds(text: str, name: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name} {text!r}: expected seconds, e.g. 5 or 2.5") from None
    if not low <= value <= high:
        raise InputError(f"{name} {value:g}: must be from {low:g} to {high:g} seconds")
    return value


@command("pair", epilog="Example: stridewatch pair C0:FF:EE:00:00:01 --kind footpod")
@click.argument("address_text", metavar="ADDRESS")
@click.option(
    "--kind",
    type=click.Choice(["footpod", "hrm", "footpod+hrm"]),
    help="What the sensor is (footpod+hrm: one device with both services, such as a "
    "Wahoo TICKR X or a treadmill bridge; stridewatch subscribes to all it offers).",
)
@click.option("--name", help="A name to remember it by (default: what it advertises).")
@with_app
def pair(app: App, address_text: str, kind: str | None, name: str | None) -> None:
    """Allow stridewatch to connect to a sensor: adds ADDRESS to [sensors] allow.

    Writes the user config file (see `stridewatch config path`), keeping the rest of it,
    and records the sensor in the database. The sensor need not be in range.
    """
    from agent.config import user_config_path
    from agent.sensors.pairing import add_to_allow_list, parse_address

    address = parse_address(address_text)
    app.settings  # noqa: B018  (a config that does not load is refused before it is edited)
    path = user_config_path()
    added = add_to_allow_list(path, address)
    with app.open_store() as store:
        store.add_device(address=address, kind=kind or "unknown", name=name)
    verb = "added to" if added else "already in"
    click.echo(f"{address} {verb} the allow-list ([sensors] allow) in {path}")


DECODE_KINDS = (
    "hrm",
    "rsc",
    "rsc-feature",
    "battery",
    "sc-response",
    "sensor-location",
    "body-location",
)


@command(
    "decode",
    epilog="Example: stridewatch decode hrm 16 3c 11 04  (also 163c1104 or 0x16,0x3c,0x11,0x04)",
)
@click.argument("kind", metavar="KIND", type=click.Choice(DECODE_KINDS))
@click.argument("hex_parts", metavar="HEX", nargs=-1, required=True)
@json_option
def decode(kind: str, hex_parts: tuple[str, ...], as_json: bool) -> None:
    """Decode one GATT payload copied from a sensor (e.g. from nRF Connect or btmon).

    KIND: hrm (0x2A37), rsc (0x2A53), rsc-feature (0x2A54), battery (0x2A19),
    sc-response (0x2A55), sensor-location (0x2A5D), body-location (0x2A38).

    A payload cut short or with stray bytes shows every field that is complete, and a
    "left over" line (JSON: "leftover") counting the bytes not decoded.
    """
    from agent.sensors import gatt

    try:
        data = gatt.parse_hex(" ".join(hex_parts))
    except ValueError as exc:
        raise InputError(f"HEX: {exc}; expected e.g. '16 3c 11 04'", option="HEX") from None
    value = gatt.DECODERS[kind](data)
    if as_json:
        echo_json(gatt.as_json(value))
        return
    for label, text in gatt.describe(value):
        click.echo(f"{label + ':':<17} {text}")
