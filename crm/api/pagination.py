from rest_framework import pagination
from rest_framework.response import Response

from crm.paginator import EstimatedCountPaginator


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N`` and ``?page_size=N`` (at most 200).

    ``count`` is exact up to 20,000 rows; above it, on PostgreSQL, it is the planner's
    estimate and ``count_is_estimate`` is true (an exact ``COUNT(*)`` over every row the
    caller may see would cost more than the page itself).
    """

    django_paginator_class = EstimatedCountPaginator
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_estimate": self.page.paginator.count_is_estimate,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        response["properties"] = {
            "count": properties["count"],
            "count_is_estimate": {
                "type": "boolean",
                "description": "true when count is the database's estimate (above 20,000)",
                "example": False,
            },
            **{k: v for k, v in properties.items() if k != "count"},
        }
        response["required"] = [*response.get("required", []), "count_is_estimate"]
        return response
