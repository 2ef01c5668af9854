"""SQLModel tables: the application's durable state.

Every schema change needs an Alembic migration in ``supportbot/migrations/versions``;
a test compares these models with the migrated schema on SQLite and PostgreSQL.
Tables live in modules by concern; import them from here.
"""

from supportbot.models.columns import MAX_ID, UTCDateTime, utcnow
from supportbot.models.conversations import (
    ChannelSetting,
    Exchange,
    Feedback,
    QuestionRecord,
    QuestionState,
    Rating,
    SlackEvent,
    Surface,
)
from supportbot.models.learning import (
    Dataset,
    HarvestRun,
    ModelChange,
    ModelVersion,
    PairEvent,
    PairKind,
    PairOrigin,
    PairStatus,
    QAPair,
    RunStatus,
    TrainingRun,
)
from supportbot.models.operations import (
    JobRun,
    Lease,
    PrivacyAction,
    Replica,
    SyncRun,
)

__all__ = [
    "MAX_ID",
    "ChannelSetting",
    "Dataset",
    "Exchange",
    "Feedback",
    "HarvestRun",
    "JobRun",
    "Lease",
    "ModelChange",
    "ModelVersion",
    "PairEvent",
    "PairKind",
    "PairOrigin",
    "PairStatus",
    "PrivacyAction",
    "QAPair",
    "QuestionRecord",
    "QuestionState",
    "Rating",
    "Replica",
    "RunStatus",
    "SlackEvent",
    "Surface",
    "SyncRun",
    "TrainingRun",
    "UTCDateTime",
    "utcnow",
]
