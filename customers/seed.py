"""Demo customers for ``manage.py seed_demo``: a few dozen believable cards of several
trades spread over rep1, rep2 and rep3, with valid synthetic ID numbers, consents,
contacts, interactions and stages."""

from __future__ import annotations

import datetime
import random

from crm import seeding

ORGANISATIONS = [
    ("华东汽配连锁有限公司", "national-parts-distributor"),
    ("北方机电配件有限公司", "national-parts-distributor"),
    ("恒通办公用品批发中心", "national-supplies-dealer"),
    ("金桥文具用品有限公司", "national-supplies-dealer"),
    ("海淀家电城", "regional-electrical-store"),
    ("南山电器商行", "regional-electrical-store"),
    ("老街茶叶专卖店", "regional-specialty-store"),
    ("云岭户外用品专卖", "regional-specialty-store"),
    ("惠民量贩超市", "regional-mass-merchandiser"),
    ("万家福购物广场", "regional-mass-merchandiser"),
    ("好邻居家居建材", "regional-diy-store"),
    ("百安居五金建材店", "regional-diy-store"),
    ("育才培训学校", "other"),
    ("康宁养老院", "other"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "桂英",
    "建华",
    "晓东",
    "志强",
    "海燕",
    "国庆",
]
CITIES = [
    "北京市海淀区中关村大街",
    "上海市浦东新区世纪大道",
    "广东省深圳市南山区科技园路",
    "浙江省杭州市西湖区文三路",
    "江苏省南京市鼓楼区中山路",
    "四川省成都市武侯区人民南路",
]
SUMMARIES = [
    "了解门店下季度采购计划，对新品感兴趣。",
    "客户反映上批货物包装破损，已安排补发。",
    "拜访店长，介绍促销方案，约定下周回访。",
    "电话确认付款计划，客户承诺月底结清。",
    "家长会上沟通学员学习进度。",
]


@seeding.register("customers", order=20)
def seed_customers(*, stdout, password):
    from crm.models import User
    from customers import services
    from customers.models import BusinessType, Customer, Interaction, ServiceStage, Tier
    from customers.synthetic import mobile, resident_id, social_credit_code

    if Customer.objects.exists():
        stdout.write("  customers: already present, left as they are")
        return
    rng = random.Random(20261128)  # noqa: S311 (reproducible demo data)
    reps = list(User.objects.filter(username__in=["rep1", "rep2", "rep3"]).order_by("username"))
    types = {t.code: t for t in BusinessType.objects.all()}
    tiers = list(Tier.objects.order_by("rank"))
    stages = list(ServiceStage.objects.order_by("order"))
    created = 0
    for i, (name, type_code) in enumerate(ORGANISATIONS):
        owner = reps[i % len(reps)]
        customer = services.customer_create(
            actor=owner,
            kind=Customer.Kind.ORGANISATION,
            name=name,
            business_type=types[type_code],
            tier=tiers[i % len(tiers)],
            status=Customer.Status.ACTIVE if i % 3 else Customer.Status.PROSPECT,
            phone=f"0{rng.choice(['10', '21', '755', '571'])}-{rng.randrange(10**7, 10**8)}",
            email=f"contact{i}@example.cn",
            headquarters_address=f"{rng.choice(CITIES)}{rng.randrange(1, 300)}号",
            employees=rng.choice([12, 45, 80, 150, 420, 1200]),
            founded_on=datetime.date(rng.randrange(1990, 2022), rng.randrange(1, 13), 1),
            registered_capital=rng.choice([500000, 1000000, 5000000, 20000000]),
            documents=[
                services.DocumentInput(
                    "social_credit_code",
                    social_credit_code(rng=rng),
                    verification_method="registry",
                    verified_at=datetime.date(2026, 1, 15),
                )
            ],
            contacts=[
                services.ContactInput(
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    phone=mobile(rng=rng),
                    role="采购经理",
                    is_primary=True,
                )
            ],
            consents=[services.ConsentInput("service", "paper", "2026-01")]
            + ([services.ConsentInput("marketing", "paper", "2026-01")] if i % 2 else []),
        )
        created += 1
        _activity(customer, owner, rng, stages, services, Interaction)
    for i in range(22):
        owner = reps[i % len(reps)]
        born = datetime.date(rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 28))
        customer = services.customer_create(
            actor=owner,
            kind=Customer.Kind.INDIVIDUAL,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            business_type=types["other"],
            tier=tiers[-1],
            status=Customer.Status.ACTIVE if i % 4 else Customer.Status.PROSPECT,
            phone=mobile(rng=rng),
            email=f"person{i}@example.cn" if i % 3 else "",
            address=f"{rng.choice(CITIES)}{rng.randrange(1, 300)}号",
            birth_date=born,
            documents=[
                services.DocumentInput(
                    "resident_id",
                    resident_id(born=born, rng=rng),
                    verification_method="in_person",
                    verified_at=datetime.date(2026, 3, 1),
                )
            ],
            consents=[services.ConsentInput("service", "in_person", "2026-01")]
            + ([services.ConsentInput("marketing", "web", "2026-01")] if i % 2 else []),
        )
        created += 1
        _activity(customer, owner, rng, stages, services, Interaction)
    stdout.write(f"  customers: {created}")


def _activity(customer, owner, rng, stages, services, Interaction):
    from django.utils import timezone

    for _ in range(rng.randrange(1, 4)):
        services.interaction_log(
            actor=owner,
            customer=customer,
            kind=rng.choice(
                [Interaction.Kind.CALL, Interaction.Kind.VISIT, Interaction.Kind.MEETING]
            ),
            summary=rng.choice(SUMMARIES),
            outcome=rng.choice(Interaction.Outcome.values),
            occurred_at=timezone.now() - datetime.timedelta(days=rng.randrange(1, 200)),
            next_follow_up=timezone.localdate() + datetime.timedelta(days=rng.randrange(0, 20))
            if rng.random() < 0.4
            else None,
        )
    target = rng.choice(stages[1:])
    if target != customer.stage:
        services.stage_move(
            actor=owner, customer_id=customer.pk, to_stage=target, responsible=owner
        )
