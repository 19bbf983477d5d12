"""A reader for systemd unit files, enough for deploy/tests: sections,
repeated keys, backslash continuations, comments, and the variable
expansion systemd applies to Exec*= lines ("${VAR}" is one word, a bare
"$VAR" splits into words and vanishes when empty).

    unit = UnitFile.parse(open("uopd.service").read())
    unit.get("Service", "User")        # last value: "uopd"
    unit.all("Service", "DeviceAllow") # every value, in order
    argv = unit.command("ExecStart", unit.environment())
"""
import re
import shlex


class UnitFile:
    def __init__(self):
        self.sections = {}  # section -> list of (key, value)

    @staticmethod
    def parse(text):
        unit = UnitFile()
        section = None
        pending = ""
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not pending and (not line or line[0] in "#;"):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line = pending + line
            pending = ""
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                unit.sections.setdefault(section, [])
                continue
            if section is None or "=" not in line:
                raise ValueError("line %d: not 'Key=value' inside a section: %r" % (number, raw))
            key, value = line.split("=", 1)
            unit.sections[section].append((key.strip(), value.strip()))
        if pending:
            raise ValueError("the file ends inside a continued line")
        return unit

    def all(self, section, key):
        return [v for k, v in self.sections.get(section, []) if k == key]

    def get(self, section, key, default=None):
        values = self.all(section, key)
        return values[-1] if values else default

    def environment(self, overrides=None):
        """The Environment= assignments of [Service] (later ones win), then
        `overrides` (what an EnvironmentFile would add)."""
        env = {}
        for value in self.all("Service", "Environment"):
            for word in shlex.split(value):
                name, _, val = word.partition("=")
                env[name] = val
        env.update(overrides or {})
        return env

    def command(self, key, env):
        """The argv of `key` (e.g. ExecStart) after systemd's expansion."""
        value = self.get("Service", key)
        if value is None:
            raise KeyError("[Service] has no %s=" % key)
        value = value.lstrip("-@:+!")  # systemd's prefixes
        argv = []
        for word in shlex.split(value):
            bare = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
            if bare:
                argv.extend(env.get(bare.group(1), "").split())
                continue
            argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                               lambda m: env.get(m.group(1), ""), word))
        return argv
