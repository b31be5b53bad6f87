"""Every management command of the project answers `manage.py help <command>`, in the
language asked for."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.utils import translation

PROJECT_APPS = {config.name for config in apps.get_app_configs() if Path(config.path).parent == settings.BASE_DIR}
PROJECT_COMMANDS = sorted((app, name) for name, app in get_commands().items() if app in PROJECT_APPS)


def test_the_project_has_its_commands():
    assert {"grant_role", "break_glass_unlock", "import_plan", "parse_plan", "seed_demo"} <= {
        name for _app, name in PROJECT_COMMANDS
    }


@pytest.mark.parametrize("app, name", PROJECT_COMMANDS, ids=[name for _app, name in PROJECT_COMMANDS])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_help_is_printed_in_the_language_asked_for(app, name, language):
    command = load_command_class(app, name)
    with translation.override(language):
        text = command.create_parser("manage.py", name).format_help()
    # argparse wraps the description: compare without the white space it adds
    assert "".join(str(command.help).split()) in "".join(text.split())
    has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in str(command.help))
    assert has_chinese == (language == "zh-hans")
