"""`continuity setup …`: the rate table, items' tax groups and shipping charges."""

from __future__ import annotations

from typing import Annotated

import typer

from continuity.bootstrap import bootstrap
from continuity.domain.calendar import parse_date
from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money, parse_amount
from continuity.domain.tax import ChargeKind, ShippingCharge, TaxRate, parse_rate
from continuity.entrypoints.cli_output import console, emit, handles_errors, table_of
from continuity.entrypoints.cli_servicing import ActorOption, cli_actor
from continuity.services import taxes

setup_app = typer.Typer(help="Set-up data: tax rates, tax groups and shipping charges.", no_args_is_help=True)
tax_rate_app = typer.Typer(help="The tax rate table (a group's rate in a region from a day on).", no_args_is_help=True)
setup_app.add_typer(tax_rate_app, name="tax-rate")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
KindOption = Annotated[str, typer.Option("--kind", help="none, per_order (per child order) or per_unit.")]
AmountOption = Annotated[str, typer.Option("--amount", help="The charge (per order or per unit).")]

_RATE_KEYS = ["tax_group", "region", "rate", "valid_from"]


def charge_of(kind: str, amount: str) -> ShippingCharge:
    """A shipping charge typed on the command line (or in a form): its kind and amount."""
    try:
        charge_kind = ChargeKind(kind)
    except ValueError:
        raise ValidationFailed(
            f"not a shipping charge kind: {kind!r} (none, per_order or per_unit)", "shipping_charge_invalid"
        ) from None
    return ShippingCharge(charge_kind, Money(parse_amount(amount), "XXX").minor)


@tax_rate_app.command("set")
@handles_errors
def tax_rate_set(
    tax_group: str,
    region: Annotated[str, typer.Argument(help="The customer's country (as on the address), e.g. SE.")],
    rate: Annotated[str, typer.Argument(help="A percentage, e.g. 25 or 12.5.")],
    valid_from: Annotated[str, typer.Option("--from", help="First day the rate applies (YYYY-MM-DD).")],
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """Set a tax group's rate in a region from a day on. Orders already entered change only through
    `jobs tax-rate-change` (its --dry-run lists them first)."""
    a = bootstrap()
    row = TaxRate(tax_group.strip(), region.strip().upper(), parse_rate(rate), parse_date(valid_from))
    data = taxes.set_tax_rate(a.uow, row, cli_actor(actor))
    emit(
        data,
        as_json,
        lambda d: console.print(f"{d['tax_group']} in {d['region']}: {d['rate']} % from {d['valid_from']}"),
    )


@tax_rate_app.command("list")
@handles_errors
def tax_rate_list(
    on: Annotated[str | None, typer.Option("--on", help="Only the rates in force that day.")] = None,
    as_json: Json = False,
) -> None:
    """List the rate table."""
    a = bootstrap()
    data = taxes.tax_rates(a.uow, parse_date(on) if on else None)
    emit(data, as_json, lambda d: table_of("Tax rates (%)", _RATE_KEYS, d))


@setup_app.command("program-shipping")
@handles_errors
def program_shipping(
    program_id: str, kind: KindOption, amount: AmountOption = "0", actor: ActorOption = None, as_json: Json = False
) -> None:
    """Set a program's shipping charge per shipment (orders entered from now on)."""
    a = bootstrap()
    data = taxes.set_program_shipping(a.uow, program_id, charge_of(kind, amount), a.clock.today(), cli_actor(actor))
    emit(data, as_json, lambda d: console.print(f"program {program_id}: shipping {d['kind']} {d['amount']}"))


@setup_app.command("product")
@handles_errors
def product_charges(
    item_id: str,
    tax_group: Annotated[str | None, typer.Option("--tax-group", help="The item's tax group.")] = None,
    kind: Annotated[str | None, typer.Option("--shipping", help="A parent product's own charge kind.")] = None,
    amount: AmountOption = "0",
    actor: ActorOption = None,
    as_json: Json = False,
) -> None:
    """Set an item's tax group and a parent product's own shipping charge (before its program's)."""
    a = bootstrap()
    charge = charge_of(kind, amount) if kind is not None else None
    group, shipping = taxes.set_product_charges(a.uow, item_id, tax_group, charge, cli_actor(actor))
    data = {"item_id": item_id, "tax_group": group, "shipping_charge": shipping}
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"item {item_id}: tax group {group or '(none)'}, shipping {shipping['kind']} {shipping['amount']}"
        ),
    )
