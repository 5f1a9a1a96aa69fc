"""Demo sales data (a seeder of ``manage.py seed_demo``): products, three full years of
monthly sales with a visible season, and monthly stock snapshots for the demo customers.

Idempotent: every demo line has a reference, so its key is the same on each run, and a
snapshot already stored is left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from crm import seeding

PRODUCTS = [
    ("D-OIL", "Engine oil 5L", "lubricants", "80"),
    ("D-FILTER", "Oil filter", "parts", "12"),
    ("D-TYRE", "Tyre 205/55R16", "tyres", "260"),
    ("D-BATT", "Battery 60Ah", "electrical", "310"),
    ("D-WIPER", "Wiper blades", "parts", "25"),
    ("D-COOL", "Coolant 4L", "fluids", "45"),
]
SEASON = (75, 67, 92, 100, 108, 92, 83, 83, 100, 108, 125, 167)  # DESIGN §6.7's index, %


@seeding.register("sales", order=60)
def seed_sales(*, stdout, password):
    from analytics import services
    from analytics.models import Product, SalesLine, StockSnapshot
    from customers.models import Customer

    products = []
    for code, name, category, cost in PRODUCTS:
        product = Product.objects.filter(code=code).first()
        if product is None:
            product = Product(code=code, name=name, category=category, standard_cost=Decimal(cost))
            product.save()
        products.append(product)
    customers = list(Customer.objects.exclude(status=Customer.Status.MERGED).order_by("pk")[:60])
    year = datetime.date.today().year
    rows, snapshots = [], []
    for c_index, customer in enumerate(customers):
        size = Decimal(1 + (len(customers) - c_index) ** 2 % 17)  # a spread for ABC
        for p_index, product in enumerate(products):
            if (c_index + p_index) % 3 == 2:
                continue  # not every customer buys every product
            price = product.standard_cost * Decimal("1.35")
            for y in range(year - 3, year + 1):
                for month in range(1, 13):
                    day = datetime.date(y, month, 10 + p_index)
                    if day > datetime.date.today():
                        break
                    quantity = (
                        size * SEASON[month - 1] / 100 * (1 + Decimal("0.05") * (y - year + 3))
                    ).quantize(Decimal("1"))
                    amount = (quantity * price).quantize(Decimal("0.01"))
                    reference = f"demo-{customer.pk}-{product.pk}-{y}-{month}"
                    rows.append(
                        {
                            "customer_id": customer.pk,
                            "product_id": product.pk,
                            "date": day,
                            "quantity": quantity,
                            "amount": amount,
                            "cost": (quantity * product.standard_cost).quantize(Decimal("0.01")),
                            "reference": reference,
                            "line_key": services.line_key(
                                customer_id=customer.pk, product_id=product.pk, date=day,
                                quantity=quantity, amount=amount, cost=None,
                                reference=reference, occurrence=1,
                            ),
                        }
                    )  # fmt: skip
                    stock = (quantity * price / 2).quantize(Decimal("0.01"))
                    snapshots.append(
                        StockSnapshot(
                            customer_id=customer.pk,
                            product_id=product.pk,
                            month=day.replace(day=1),
                            opening_quantity=quantity / 2,
                            closing_quantity=quantity / 2,
                            opening_value=stock,
                            closing_value=stock,
                        )
                    )
    created = services.sales_lines_write(actor=None, rows=rows)
    StockSnapshot.objects.bulk_create(snapshots, batch_size=2000, ignore_conflicts=True)
    stdout.write(
        f"  sales: {len(products)} products, {created} new sales lines "
        f"({SalesLine.objects.count()} in all), {StockSnapshot.objects.count()} stock snapshots"
    )
