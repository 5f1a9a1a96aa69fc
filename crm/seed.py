"""Demo users and teams (the first seeder of ``manage.py seed_demo``)."""

from crm import roles, seeding

DEMO_USERS = [
    # username, role, team, given name, family name: the demo company is Chinese, so its
    # staff have Chinese names, shown family name first (孙军) by ``User.get_full_name``.
    ("manager1", roles.SALES_MANAGER, "North", "伟", "赵"),
    ("manager2", roles.SALES_MANAGER, "South", "芳", "钱"),
    ("rep1", roles.SALES_REP, "North", "军", "孙"),
    ("rep2", roles.SALES_REP, "North", "丽", "周"),
    ("rep3", roles.SALES_REP, "South", "敏", "吴"),
    ("gm", roles.GENERAL_MANAGER, None, "华", "郑"),
    ("service1", roles.SERVICE_STAFF, None, "颖", "王"),
    ("servicemgr", roles.SERVICE_MANAGER, None, "强", "刘"),
    ("dpo", roles.DPO, None, "磊", "冯"),
    ("auditor", roles.AUDITOR, None, "静", "陈"),
    ("admin", roles.ADMIN, None, "涛", "褚"),
]


@seeding.register("users and teams", order=10)
def seed_users(*, stdout, password):
    from crm.models import Team, User
    from crm.services import team_create, user_create

    existing = set(User.objects.values_list("username", flat=True))

    def create(username, role, team, first, last):
        return user_create(
            username=username,
            role=role,
            password=password,
            team=team,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            validate=False,
        )

    # Managers first: each team is created with its manager.
    for username, role, team_name, first, last in DEMO_USERS:
        if role == roles.SALES_MANAGER and username not in existing:
            manager = create(username, role, None, first, last)
            if not Team.objects.filter(name=team_name).exists():
                team_create(name=team_name, manager=manager)
    for username, role, team_name, first, last in DEMO_USERS:
        if role != roles.SALES_MANAGER and username not in existing:
            team = Team.objects.get(name=team_name) if team_name else None
            create(username, role, team, first, last)
    stdout.write("  users: " + ", ".join(u[0] for u in DEMO_USERS))
