"""Demo users and teams (the first seeder of ``manage.py seed_demo``)."""

from crm import roles, seeding

DEMO_USERS = [
    # username, role, team, first name, last name
    ("manager1", roles.SALES_MANAGER, "North", "Wei", "Zhao"),
    ("manager2", roles.SALES_MANAGER, "South", "Fang", "Qian"),
    ("rep1", roles.SALES_REP, "North", "Jun", "Sun"),
    ("rep2", roles.SALES_REP, "North", "Li", "Zhou"),
    ("rep3", roles.SALES_REP, "South", "Min", "Wu"),
    ("gm", roles.GENERAL_MANAGER, None, "Hua", "Zheng"),
    ("service1", roles.SERVICE_STAFF, None, "Ying", "Wang"),
    ("servicemgr", roles.SERVICE_MANAGER, None, "Qiang", "Liu"),
    ("dpo", roles.DPO, None, "Lei", "Feng"),
    ("auditor", roles.AUDITOR, None, "Jing", "Chen"),
    ("admin", roles.ADMIN, None, "Tao", "Chu"),
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
