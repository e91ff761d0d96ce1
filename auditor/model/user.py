"""Who a container runs as: the one place that reads ``USER name[:group]`` (Dockerfile), ``user:``
(Compose) and turns a user into a UID. Kubernetes states ``runAsUser`` as a number already."""
from __future__ import annotations

TYPE_CHECKING = False  # typing's constant (mypy takes it as True) without importing typing
if TYPE_CHECKING:  # mypy sees the standard decorator; auditor.record builds the same classes cheaper
    from dataclasses import dataclass
else:
    from auditor.record import dataclass

if TYPE_CHECKING:
    from auditor.model.dockerfile import Dockerfile, Instruction, Stage

ROOT_NAMES = frozenset({"root", "0"})


@dataclass(frozen=True, slots=True)
class UserSpec:
    """``name[:group]`` as Docker and Compose read it (``1001:1001``, ``nextjs``, ``root``)."""

    name: str
    group: str | None

    @property
    def is_root(self) -> bool:
        return self.name.lower() in ROOT_NAMES

    @property
    def numeric_uid(self) -> int | None:
        """The UID the text itself states: 0 for root, the number for a numeric user, else None."""
        if self.is_root:
            return 0
        return int(self.name) if self.name.isdigit() else None


def parse_user(text: str) -> UserSpec:
    name, _, group = text.strip().partition(":")
    return UserSpec(name.strip(), group.strip() or None)


@dataclass(frozen=True, slots=True)
class ImageUser:
    """The user an image runs as: its ``USER`` in force (``None``: no USER, so root) and the UID
    the Dockerfile shows for it (``None`` when a name's UID is not shown)."""

    instruction: Instruction | None
    spec: UserSpec
    uid: int | None


def image_user(dockerfile: Dockerfile, stage: Stage) -> ImageUser:
    """The runtime user of ``stage``: the last ``USER`` of the stage or the stages it is built
    FROM, its UID from the text, an ``adduser``/``useradd -u`` or the base image's known users."""
    instruction = dockerfile.last_inherited(stage, "USER")
    if instruction is None:
        return ImageUser(None, UserSpec("root", None), 0)
    spec = parse_user(instruction.arguments)
    uid = spec.numeric_uid
    if uid is None:
        found = dockerfile.user_uid(stage, spec.name)
        uid = int(found[0]) if found and found[0].isdigit() else None
    return ImageUser(instruction, spec, uid)


def compose_uid(user: str, image: ImageUser | None) -> int | None:
    """The UID a compose ``user:`` runs as: stated in the text, or the image's when it names the
    image's own user."""
    spec = parse_user(user)
    if spec.numeric_uid is not None:
        return spec.numeric_uid
    return image.uid if image is not None and image.spec.name == spec.name else None
