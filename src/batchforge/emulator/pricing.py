"""The AWS Price List Query API's ``GetProducts`` for the emulator (moto has no Price List).

AWS JSON 1.1 protocol: ``POST /`` with ``X-Amz-Target: AWSPriceListService.GetProducts``.
Answers in AWS's format (``FormatVersion``, ``PriceList`` as JSON *strings*, ``NextToken``)
from a small bundled table of **sample data**: a few EC2 instance types in a few regions, with
the on-demand Linux prices AWS published for them (USD per hour) and, so that a request
missing a filter gets several products as on AWS, a Windows and a reserved-capacity variant
of each.  Every price description says it is emulator sample data.

Rules enforced as AWS does (AWS Price List Query API reference, GetProducts; AWS Billing
User Guide, "Using the AWS Price List Query API"): the API has endpoints only in us-east-1,
eu-central-1 and ap-south-1; ``ServiceCode`` is required when filters are given;
``MaxResults`` is 1-100; filter types ``TERM_MATCH`` (exact), ``EQUALS``, ``CONTAINS``,
``ANY_OF`` and ``NONE_OF`` (comma-separated values).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

TARGET_PREFIX = "AWSPriceListService."
ENDPOINT_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")
LOCATIONS = {
    "us-east-1": ("US East (N. Virginia)", "USE1-"),
    "eu-west-1": ("EU (Ireland)", "EU-"),
    "eu-central-1": ("EU (Frankfurt)", "EUC1-"),
}
# name: (vCPUs, memory GiB, GPUs)
SIZES: dict[str, tuple[int, float, int]] = {
    "m5.large": (2, 8, 0),
    "m5.xlarge": (4, 16, 0),
    "m5.2xlarge": (8, 32, 0),
    "m5.4xlarge": (16, 64, 0),
    "c5.large": (2, 4, 0),
    "c5.xlarge": (4, 8, 0),
    "c5.2xlarge": (8, 16, 0),
    "c5.4xlarge": (16, 32, 0),
    "r5.large": (2, 16, 0),
    "r5.xlarge": (4, 32, 0),
    "r5.2xlarge": (8, 64, 0),
    "m4.large": (2, 8, 0),
    "c4.large": (2, 3.75, 0),
    "r4.large": (2, 15.25, 0),
    "t3.medium": (2, 4, 0),
    "g4dn.xlarge": (4, 16, 1),
    "p3.2xlarge": (8, 61, 1),
}
# Sample data: on-demand Linux USD/hour as AWS published them for these regions.
PRICES: dict[str, dict[str, float]] = {
    "us-east-1": {
        "m5.large": 0.096,
        "m5.xlarge": 0.192,
        "m5.2xlarge": 0.384,
        "m5.4xlarge": 0.768,
        "c5.large": 0.085,
        "c5.xlarge": 0.17,
        "c5.2xlarge": 0.34,
        "c5.4xlarge": 0.68,
        "r5.large": 0.126,
        "r5.xlarge": 0.252,
        "r5.2xlarge": 0.504,
        "m4.large": 0.10,
        "c4.large": 0.10,
        "r4.large": 0.133,
        "t3.medium": 0.0416,
        "g4dn.xlarge": 0.526,
        "p3.2xlarge": 3.06,
    },
    "eu-west-1": {
        "m5.large": 0.107,
        "m5.xlarge": 0.214,
        "c5.large": 0.096,
        "c5.xlarge": 0.192,
        "r5.large": 0.141,
    },
    "eu-central-1": {"m5.large": 0.115, "c5.large": 0.097, "r5.large": 0.152},
}
WINDOWS_EXTRA = 0.092  # Windows adds its licence per hour (sample: the m5.large difference)
SAMPLE = "batchforge emulator sample data"


class PricingError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _product(region: str, name: str, os_name: str, capacity: str, price: float) -> dict[str, Any]:
    location, usage_prefix = LOCATIONS[region]
    vcpus, memory, gpus = SIZES[name]
    digest = hashlib.sha256(f"{region}/{name}/{os_name}/{capacity}".encode()).hexdigest()
    sku = f"BF{digest[:14].upper()}"
    attributes = {
        "servicecode": "AmazonEC2",
        "servicename": "Amazon Elastic Compute Cloud",
        "productFamily": "Compute Instance",
        "location": location,
        "locationType": "AWS Region",
        "regionCode": region,
        "instanceType": name,
        "instanceFamily": "GPU instance" if gpus else "General purpose",
        "vcpu": str(vcpus),
        "memory": f"{memory:g} GiB",
        "gpu": str(gpus),
        "operatingSystem": os_name,
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "licenseModel": "No License required",
        "capacitystatus": capacity,
        "usagetype": f"{usage_prefix}BoxUsage:{name}",
        "operation": "RunInstances" if os_name == "Linux" else "RunInstances:0002",
    }
    term = f"{sku}.JRTCKXETXF"
    return {
        "product": {"productFamily": "Compute Instance", "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonEC2",
        "terms": {
            "OnDemand": {
                term: {
                    "priceDimensions": {
                        f"{term}.6YS6EN2CT7": {
                            "unit": "Hrs",
                            "endRange": "Inf",
                            "description": f"${price:.4f} per On Demand {os_name} {name} "
                            f"Instance Hour ({SAMPLE})",
                            "appliesTo": [],
                            "rateCode": f"{term}.6YS6EN2CT7",
                            "beginRange": "0",
                            "pricePerUnit": {"USD": f"{price:.10f}"},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {},
                }
            }
        },
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
    }


def _catalog() -> list[dict[str, Any]]:
    products = []
    for region, prices in PRICES.items():
        for name, price in prices.items():
            products.append(_product(region, name, "Linux", "Used", price))
            products.append(_product(region, name, "Windows", "Used", price + WINDOWS_EXTRA))
            products.append(_product(region, name, "Linux", "AllocatedCapacityReservation", 0.0))
    return products


CATALOG = _catalog()
MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "TERM_MATCH": lambda actual, value: actual == value,
    "EQUALS": lambda actual, value: actual == value,
    "CONTAINS": lambda actual, value: value in actual,
    "ANY_OF": lambda actual, value: actual in [v.strip() for v in value.split(",")],
    "NONE_OF": lambda actual, value: actual not in [v.strip() for v in value.split(",")],
}


def get_products(body: dict[str, Any]) -> dict[str, Any]:
    """Answer a GetProducts request body (raises :class:`PricingError`)."""
    service = body.get("ServiceCode")
    filters = body.get("Filters") or []
    if filters and not service:
        raise PricingError("InvalidParameterException", "ServiceCode is required with Filters.")
    if service and service != "AmazonEC2":
        raise PricingError("NotFoundException", f"Service code {service} not found ({SAMPLE}).")
    max_results = body.get("MaxResults", 100)
    if not isinstance(max_results, int) or not 1 <= max_results <= 100:
        raise PricingError("InvalidParameterException", "MaxResults must be between 1 and 100.")
    tests = []
    for item in filters:
        kind, field, value = item.get("Type"), item.get("Field"), item.get("Value")
        if kind not in MATCHERS:
            raise PricingError("InvalidParameterException", f"Invalid filter type {kind}.")
        if not isinstance(field, str) or not isinstance(value, str):
            raise PricingError("InvalidParameterException", "A filter needs Field and Value.")
        tests.append((MATCHERS[kind], field, value))
    matches = [
        p
        for p in CATALOG
        if all(
            test(str(p["product"]["attributes"].get(field, "")), value)
            for test, field, value in tests
        )
    ]
    token = body.get("NextToken")
    start = int(token) if isinstance(token, str) and token.isdigit() else 0
    page = matches[start : start + max_results]
    answer: dict[str, Any] = {
        "FormatVersion": body.get("FormatVersion") or "aws_v1",
        "PriceList": [json.dumps(p) for p in page],
    }
    if start + max_results < len(matches):
        answer["NextToken"] = str(start + max_results)
    return answer


SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class PricingMiddleware:
    """Answers Price List requests; hands every other request to ``app`` (moto)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(TARGET_PREFIX):
            return self.app(environ, start_response)
        try:
            answer, status = self._answer(environ, target[len(TARGET_PREFIX) :]), 200
        except PricingError as error:
            answer, status = {"__type": error.code, "message": error.message}, error.status
        data = json.dumps(answer).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Bad Request'}",
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(data))),
                ("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000"),
            ],
        )
        return [data]

    def _answer(self, environ: dict[str, Any], operation: str) -> dict[str, Any]:
        scope = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region = scope.group("region") if scope else ""
        if region not in ENDPOINT_REGIONS:
            raise PricingError(
                "EndpointNotAvailable",
                f"The Price List Query API has no endpoint in {region or 'this region'}: "
                f"only {', '.join(ENDPOINT_REGIONS)}.",
            )
        if operation != "GetProducts":
            raise PricingError(
                "UnknownOperationException", f"{operation} is not served by the emulator."
            )
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise PricingError("SerializationException", "The body is not JSON.") from None
        if not isinstance(body, dict):
            raise PricingError("SerializationException", "The body is not a JSON object.")
        return get_products(body)
