"""EC2 prices and instance sizes, through an :class:`~batchforge.aws.session.AwsSession`.

- :func:`on_demand_hourly`: the AWS Price List Query API (``pricing:GetProducts``), served by
  AWS only from ``us-east-1``, ``eu-central-1`` and ``ap-south-1`` whatever the priced region
  (AWS Billing User Guide, "Using the AWS Price List Query API"); the product filters select
  on-demand Linux, shared tenancy, no pre-installed software, used capacity (not
  reservations), so one product answers per instance type and region.
- :func:`spot_hourly`: ``ec2:DescribeSpotPriceHistory`` in the zone's region, the latest
  ``Linux/UNIX`` price of the type in that zone.
- :func:`instance_sizes`: ``ec2:DescribeInstanceTypes`` by name pattern (paged).

AWS errors are raised as :class:`batchforge.errors.AwsError` (``AwsAccessDenied`` when the
credentials lack the permission); callers decide what an unpriced task says.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from batchforge.aws.session import AwsSession
from batchforge.runs.stuck import InstanceSize

PRICING_REGION = "us-east-1"
PRICING_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")
SPOT_PRODUCT = "Linux/UNIX"


def product_filters(instance_type: str, region: str) -> list[dict[str, str]]:
    """The GetProducts filters of one on-demand Linux instance type in ``region``."""
    wanted = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in wanted.items()]


def _hourly_of(product: dict[str, Any]) -> float | None:
    """The USD per hour of a Price List product's on-demand terms (None: none found)."""
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            if dimension.get("unit") != "Hrs":
                continue
            try:
                value = float(dimension.get("pricePerUnit", {}).get("USD"))
            except (TypeError, ValueError):
                continue
            if value > 0:
                return value
    return None


def on_demand_hourly(aws: AwsSession, instance_type: str, region: str) -> float | None:
    """On-demand Linux USD/hour of ``instance_type`` in ``region`` (None: AWS lists no such
    product)."""
    pricing = aws.client("pricing", region=PRICING_REGION)
    answer = pricing.get_products(
        ServiceCode="AmazonEC2",
        Filters=product_filters(instance_type, region),
        FormatVersion="aws_v1",
        MaxResults=10,
    )
    for item in answer.get("PriceList") or []:
        product = json.loads(item) if isinstance(item, str) else item
        attributes = product.get("product", {}).get("attributes", {})
        if attributes.get("instanceType") != instance_type:
            continue
        price = _hourly_of(product)
        if price is not None:
            return price
    return None


def spot_hourly(aws: AwsSession, instance_type: str, zone: str, region: str) -> float | None:
    """The latest Spot USD/hour of ``instance_type`` in ``zone`` (None: no history)."""
    ec2 = aws.client("ec2", region=region)
    answer = ec2.describe_spot_price_history(
        InstanceTypes=[instance_type],
        AvailabilityZone=zone,
        ProductDescriptions=[SPOT_PRODUCT],
        StartTime=datetime.now(UTC),
        MaxResults=10,
    )
    latest: tuple[datetime, float] | None = None
    for entry in answer.get("SpotPriceHistory") or []:
        if entry.get("InstanceType") != instance_type or entry.get("AvailabilityZone") != zone:
            continue
        try:
            price = float(entry["SpotPrice"])
        except (KeyError, TypeError, ValueError):
            continue
        stamp = entry.get("Timestamp")
        when = stamp if isinstance(stamp, datetime) else datetime.min.replace(tzinfo=UTC)
        if latest is None or when > latest[0]:
            latest = (when, price)
    return latest[1] if latest else None


def instance_sizes(aws: AwsSession, patterns: list[str], region: str) -> list[InstanceSize]:
    """Sizes of the instance types matching ``patterns`` (``c5.*``, ``m5.large``)."""
    if not patterns:
        return []
    ec2 = aws.client("ec2", region=region)
    sizes: list[InstanceSize] = []
    for page in ec2.paginate(
        "describe_instance_types", Filters=[{"Name": "instance-type", "Values": patterns}]
    ):
        sizes += [InstanceSize.from_aws(item) for item in page.get("InstanceTypes", [])]
    return sizes
