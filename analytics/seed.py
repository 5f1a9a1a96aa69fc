"""Demo sales data (a seeder of ``manage.py seed_demo``): products, three full years of
monthly sales with a visible season, and monthly stock snapshots for the demo customers —
each customer buying the goods of its trade (a car-parts dealer oil and tyres, a tea shop
tea).

Idempotent: every demo line has a reference, so its key is the same on each run, and a
snapshot already stored is left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from crm import seeding

# code, name, category, standard cost: the goods the demo company trades in.
PRODUCTS = [
    ("D-OIL", "机油 5L", "润滑油", "80"),
    ("D-FILTER", "机油滤清器", "汽车配件", "12"),
    ("D-TYRE", "轮胎 205/55R16", "轮胎", "260"),
    ("D-BATT", "蓄电池 60Ah", "汽车电器", "310"),
    ("D-WIPER", "雨刮片", "汽车配件", "25"),
    ("D-COOL", "冷却液 4L", "养护用品", "45"),
    ("D-PAPER", "A4 复印纸（箱）", "办公用品", "95"),
    ("D-TONER", "碳粉盒", "办公耗材", "180"),
    ("D-FOLDER", "文件夹（打）", "办公用品", "30"),
    ("D-PEN", "中性笔（盒）", "文具", "18"),
    ("D-AC", "壁挂式空调", "家用电器", "1900"),
    ("D-FRIDGE", "双门冰箱", "家用电器", "2300"),
    ("D-KETTLE", "电热水壶", "厨房小家电", "65"),
    ("D-TEA", "明前龙井礼盒", "茶叶", "160"),
    ("D-PUER", "普洱茶饼", "茶叶", "90"),
    ("D-JACKET", "冲锋衣", "户外服装", "320"),
    ("D-TENT", "双人帐篷", "户外装备", "260"),
    ("D-BOOTS", "登山鞋", "户外鞋", "280"),
    ("D-RICE", "东北大米 10kg", "粮油", "45"),
    ("D-OILV", "食用油 5L", "粮油", "60"),
    ("D-TISSUE", "抽纸（提）", "日用百货", "22"),
    ("D-TOOLS", "五金工具套装", "五金", "150"),
    ("D-LAMP", "LED 吸顶灯", "灯具", "85"),
    ("D-TAP", "卫浴龙头", "卫浴", "120"),
]
# What each trade of the demo customers (customers.seed.TRADES) buys.
RANGE = {
    "parts": ["D-OIL", "D-FILTER", "D-TYRE", "D-BATT", "D-WIPER", "D-COOL"],
    "supplies": ["D-PAPER", "D-TONER", "D-FOLDER", "D-PEN"],
    "electrical": ["D-AC", "D-FRIDGE", "D-KETTLE"],
    "tea": ["D-TEA", "D-PUER"],
    "outdoor": ["D-JACKET", "D-TENT", "D-BOOTS"],
    "supermarket": ["D-RICE", "D-OILV", "D-TISSUE"],
    "diy": ["D-TOOLS", "D-LAMP", "D-TAP"],
    "school": ["D-PAPER", "D-TONER", "D-PEN", "D-FOLDER"],
    "care-home": ["D-TISSUE", "D-KETTLE", "D-AC"],
    "individual": ["D-OIL", "D-TYRE", "D-BATT", "D-WIPER"],
}
SEASON = (75, 67, 92, 100, 108, 92, 83, 83, 100, 108, 125, 167)  # DESIGN §6.7's index, %


@seeding.register("sales", order=60)
def seed_sales(*, stdout, password):
    from analytics import services
    from analytics.models import Product, SalesLine, StockSnapshot
    from customers.models import Customer
    from customers.seed import trade_of

    products = {}
    for code, name, category, cost in PRODUCTS:
        product = Product.objects.filter(code=code).first()
        if product is None:
            product = Product(code=code, name=name, category=category, standard_cost=Decimal(cost))
            product.save()
        products[code] = product
    customers = list(
        Customer.objects.exclude(status=Customer.Status.MERGED)
        .select_related("business_type")
        .order_by("pk")[:60]
    )
    year = datetime.date.today().year
    rows, snapshots = [], []
    for c_index, customer in enumerate(customers):
        trade = trade_of(customer)
        if trade == "individual":
            size = Decimal(1 + c_index % 2)  # a private buyer: one or two a month
        else:
            size = Decimal(1 + (len(customers) - c_index) ** 2 % 17)  # a spread for ABC
        bought = [products[code] for code in RANGE[trade]]
        for p_index, product in enumerate(bought):
            if len(bought) > 3 and (c_index + p_index) % 3 == 2:
                continue  # not every customer buys all of his trade's range
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
