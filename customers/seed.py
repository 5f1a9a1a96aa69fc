"""Demo customers for ``manage.py seed_demo``: a few dozen believable cards of several
trades spread over rep1, rep2 and rep3, with valid synthetic ID numbers, consents,
contacts, interactions and stages."""

from __future__ import annotations

import datetime
import random

from crm import seeding

# name, business type, trade (what the interactions and the contact's job are about)
ORGANISATIONS = [
    ("华东汽配连锁有限公司", "national-parts-distributor", "parts"),
    ("北方机电配件有限公司", "national-parts-distributor", "parts"),
    ("恒通办公用品批发中心", "national-supplies-dealer", "supplies"),
    ("金桥文具用品有限公司", "national-supplies-dealer", "supplies"),
    ("海淀家电城", "regional-electrical-store", "electrical"),
    ("南山电器商行", "regional-electrical-store", "electrical"),
    ("老街茶叶专卖店", "regional-specialty-store", "tea"),
    ("云岭户外用品专卖", "regional-specialty-store", "outdoor"),
    ("惠民量贩超市", "regional-mass-merchandiser", "supermarket"),
    ("万家福购物广场", "regional-mass-merchandiser", "supermarket"),
    ("好邻居家居建材", "regional-diy-store", "diy"),
    ("百安居五金建材店", "regional-diy-store", "diy"),
    ("育才培训学校", "other", "school"),
    ("康宁养老院", "other", "care-home"),
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
# Per trade: the contact's job and what a rep talks about with such a customer, each
# summary with the kind of contact and its outcome. Individuals are private buyers of the
# car-care range (the products of the sales demo data).
TRADES = {
    "parts": (
        "采购经理",
        [
            ("call", "positive", "确认下月机油和机油滤清器的备货数量，客户同意按上季度用量下单。"),
            ("visit", "neutral", "走访仓库查看轮胎库存周转，客户希望把补货周期缩短到一周。"),
            ("meeting", "positive", "与采购经理商谈年度返利政策，客户同意提高蓄电池的采购比例。"),
            ("call", "negative", "客户反映上批冷却液到货延迟，影响其门店供货，已协调物流加急。"),
            ("visit", "positive", "介绍新款雨刮片和配套陈列架，客户同意先在三家分店试销。"),
        ],
    ),
    "supplies": (
        "采购主管",
        [
            ("call", "positive", "了解开学季办公用品备货计划，客户需要复印纸和文件夹的报价。"),
            ("call", "positive", "电话确认付款计划，客户承诺月底结清上月货款。"),
            ("visit", "negative", "走访配送中心，客户反映碳粉盒包装破损，已安排补发。"),
            ("meeting", "neutral", "商谈年度框架协议，客户希望中性笔和笔记本按季度统一结算。"),
        ],
    ),
    "electrical": (
        "店长",
        [
            ("visit", "positive", "拜访店长，介绍国庆家电促销方案，约定下周确认参与机型。"),
            ("call", "negative", "客户反映空调安装排期过长，已联系安装服务商加派人手。"),
            ("visit", "neutral", "核对样机陈列位置，客户考虑增加一组厨房小家电展台。"),
            ("call", "positive", "跟进以旧换新活动效果，门店反馈冰箱销量明显上升。"),
        ],
    ),
    "tea": (
        "店主",
        [
            ("visit", "positive", "陪店主品鉴今年的明前龙井新茶，客户计划追加礼盒装订货。"),
            ("call", "positive", "中秋前确认茶叶礼盒的订货数量和送货时间。"),
            ("visit", "neutral", "客户反映散装普洱销售放缓，建议调整陈列并搭配试饮活动。"),
        ],
    ),
    "outdoor": (
        "店长",
        [
            ("visit", "positive", "介绍春季新款冲锋衣和登山鞋，客户挑选了试销款式。"),
            ("call", "negative", "客户反映双人帐篷断码，已安排从区域仓调货。"),
            ("meeting", "positive", "商定暑期露营装备联合促销，门店负责场地布置。"),
        ],
    ),
    "supermarket": (
        "品类经理",
        [
            ("meeting", "positive", "与品类经理确认端架促销档期和堆头位置。"),
            ("call", "neutral", "客户要求调整大米和食用油的供货价，已提交价格申请。"),
            ("visit", "neutral", "走访门店检查货架陈列和缺货情况，补货单已确认。"),
            ("call", "negative", "客户反映周末送货车辆到店时间不稳定，约定改为早上七点前送达。"),
        ],
    ),
    "diy": (
        "门店经理",
        [
            ("visit", "positive", "介绍新款五金工具套装，客户同意在入口处设立展示区。"),
            ("call", "neutral", "客户询问卫浴龙头和LED吸顶灯的工程批量价格，已发送报价。"),
            ("visit", "neutral", "检查灯具和卫浴配件库存，建议补充热销型号。"),
            ("call", "positive", "确认装修旺季备货计划，客户将在本月底前下单。"),
        ],
    ),
    "school": (
        "后勤主任",
        [
            ("meeting", "positive", "与后勤主任沟通新学期教室文具和打印耗材的采购清单。"),
            ("call", "negative", "学校反映上批复印纸受潮，已安排退换。"),
            ("call", "positive", "确认暑期培训班开班前的文具送货时间。"),
        ],
    ),
    "care-home": (
        "行政主管",
        [
            ("visit", "positive", "走访养老院，了解抽纸等护理用品的月度用量，商定按月配送。"),
            ("meeting", "neutral", "客户为新楼层采购空调和电热水壶，已提供方案和报价。"),
            ("call", "positive", "回访上月送达的电热水壶，客户满意。"),
        ],
    ),
    "individual": (
        "",
        [
            ("call", "positive", "提醒客户车辆保养到期，预约本周六到店更换机油。"),
            ("message", "neutral", "客户咨询冬季轮胎价格，已发送报价短信。"),
            ("call", "positive", "回访上次更换的蓄电池使用情况，客户满意。"),
            ("call", "negative", "客户反映新换的雨刮片有异响，约定到店检查更换。"),
            ("message", "no_result", "邀请客户参加会员日活动，客户暂未回复。"),
        ],
    ),
}


# The trade of a card the seed did not make, by its business type (analytics' demo sales).
TRADE_OF_TYPE = {
    "national-parts-distributor": "parts",
    "national-supplies-dealer": "supplies",
    "regional-electrical-store": "electrical",
    "regional-specialty-store": "tea",
    "regional-mass-merchandiser": "supermarket",
    "regional-diy-store": "diy",
    "other": "school",
}


def trade_of(customer) -> str:
    """The demo trade of a card (a key of ``TRADES``): individuals buy car care, the seed's
    organisations their own trade's goods, any other organisation by its business type."""
    if customer.kind == customer.Kind.INDIVIDUAL:
        return "individual"
    by_name = {name: trade for name, _type, trade in ORGANISATIONS}
    type_code = customer.business_type.code if customer.business_type_id else "other"
    return by_name.get(customer.name) or TRADE_OF_TYPE.get(type_code, "supplies")


@seeding.register("customers", order=20)
def seed_customers(*, stdout, password):
    from crm.models import User
    from customers import services
    from customers.models import BusinessType, Customer, ServiceStage, Tier
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
    for i, (name, type_code, trade) in enumerate(ORGANISATIONS):
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
            # A foreign-invested company registers its capital in foreign currency.
            registered_capital_currency="USD" if i == 1 else "CNY",
            language="zh-hans",  # the demo's customers have Chinese names
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
                    role=TRADES[trade][0],
                    is_primary=True,
                )
            ],
            consents=[services.ConsentInput("service", "paper", "2026-01")]
            + ([services.ConsentInput("marketing", "paper", "2026-01")] if i % 2 else []),
        )
        created += 1
        _activity(customer, owner, rng, stages, services, trade)
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
            # Chinese; a few left not known, whose campaign e-mails follow the message's.
            language="" if i % 7 == 3 else "zh-hans",
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
        _activity(customer, owner, rng, stages, services, "individual")
    stdout.write(f"  customers: {created}")


def _activity(customer, owner, rng, stages, services, trade):
    """One to three interactions of the customer's trade (never the same one twice), a
    follow-up date on some, and a move to a later service stage."""
    from django.utils import timezone

    topics = TRADES[trade][1]
    for kind, outcome, summary in rng.sample(topics, rng.randrange(1, 4)):
        services.interaction_log(
            actor=owner,
            customer=customer,
            kind=kind,
            summary=summary,
            outcome=outcome,
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
