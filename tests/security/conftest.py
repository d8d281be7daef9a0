import pytest

from tests.security import world as world_module


@pytest.fixture
def world(make_article, admin, editor, outsider) -> world_module.World:
    return world_module.build(make_article)
