import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from idv.ableid.v1 import ableid_pb2 as _ableid_pb2
from idv.baf.v1 import applicants_pb2 as _applicants_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Vendor(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VENDOR_UNSPECIFIED: _ClassVar[Vendor]
    VENDOR_ABLEID: _ClassVar[Vendor]
    VENDOR_BAF: _ClassVar[Vendor]

class AttemptState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTEMPT_STATE_UNSPECIFIED: _ClassVar[AttemptState]
    ATTEMPT_STATE_PENDING: _ClassVar[AttemptState]
    ATTEMPT_STATE_SUCCEEDED: _ClassVar[AttemptState]
    ATTEMPT_STATE_FAILED: _ClassVar[AttemptState]
    ATTEMPT_STATE_EXPIRED: _ClassVar[AttemptState]
    ATTEMPT_STATE_CANCELED: _ClassVar[AttemptState]

class DataKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_KIND_UNSPECIFIED: _ClassVar[DataKind]
    DATA_KIND_PASSPORT: _ClassVar[DataKind]
    DATA_KIND_PHOTO: _ClassVar[DataKind]
    DATA_KIND_REGISTRATION: _ClassVar[DataKind]
    DATA_KIND_PERSON: _ClassVar[DataKind]
VENDOR_UNSPECIFIED: Vendor
VENDOR_ABLEID: Vendor
VENDOR_BAF: Vendor
ATTEMPT_STATE_UNSPECIFIED: AttemptState
ATTEMPT_STATE_PENDING: AttemptState
ATTEMPT_STATE_SUCCEEDED: AttemptState
ATTEMPT_STATE_FAILED: AttemptState
ATTEMPT_STATE_EXPIRED: AttemptState
ATTEMPT_STATE_CANCELED: AttemptState
DATA_KIND_UNSPECIFIED: DataKind
DATA_KIND_PASSPORT: DataKind
DATA_KIND_PHOTO: DataKind
DATA_KIND_REGISTRATION: DataKind
DATA_KIND_PERSON: DataKind

class Attempt(_message.Message):
    __slots__ = ("vendor", "attempt_id", "state", "terminal", "transaction_id", "url", "create_time", "update_time", "expire_time", "last_sequence", "result_code", "result_type", "result_message")
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RESULT_CODE_FIELD_NUMBER: _ClassVar[int]
    RESULT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESULT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    vendor: Vendor
    attempt_id: str
    state: AttemptState
    terminal: bool
    transaction_id: str
    url: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    last_sequence: int
    result_code: int
    result_type: str
    result_message: str
    def __init__(self, vendor: _Optional[_Union[Vendor, str]] = ..., attempt_id: _Optional[str] = ..., state: _Optional[_Union[AttemptState, str]] = ..., terminal: _Optional[bool] = ..., transaction_id: _Optional[str] = ..., url: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sequence: _Optional[int] = ..., result_code: _Optional[int] = ..., result_type: _Optional[str] = ..., result_message: _Optional[str] = ...) -> None: ...

class AttemptEvent(_message.Message):
    __slots__ = ("event_id", "sequence", "receive_time", "vendor", "attempt_id", "attempt_state", "started", "completed", "failed", "expired", "passport", "photo", "registration", "person", "data_failed", "baf_status_changed", "baf_attempt_added", "user_returned", "raw", "media")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_STATE_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_FIELD_NUMBER: _ClassVar[int]
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    DATA_FAILED_FIELD_NUMBER: _ClassVar[int]
    BAF_STATUS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    BAF_ATTEMPT_ADDED_FIELD_NUMBER: _ClassVar[int]
    USER_RETURNED_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    sequence: int
    receive_time: _timestamp_pb2.Timestamp
    vendor: Vendor
    attempt_id: str
    attempt_state: AttemptState
    started: Started
    completed: Completed
    failed: Failed
    expired: Expired
    passport: _ableid_pb2.Passport
    photo: _ableid_pb2.Photo
    registration: _ableid_pb2.Address
    person: _ableid_pb2.Person
    data_failed: DataFailed
    baf_status_changed: BafStatusChanged
    baf_attempt_added: BafAttemptAdded
    user_returned: UserReturned
    raw: _struct_pb2.Struct
    media: _containers.RepeatedCompositeFieldContainer[Media]
    def __init__(self, event_id: _Optional[str] = ..., sequence: _Optional[int] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., vendor: _Optional[_Union[Vendor, str]] = ..., attempt_id: _Optional[str] = ..., attempt_state: _Optional[_Union[AttemptState, str]] = ..., started: _Optional[_Union[Started, _Mapping]] = ..., completed: _Optional[_Union[Completed, _Mapping]] = ..., failed: _Optional[_Union[Failed, _Mapping]] = ..., expired: _Optional[_Union[Expired, _Mapping]] = ..., passport: _Optional[_Union[_ableid_pb2.Passport, _Mapping]] = ..., photo: _Optional[_Union[_ableid_pb2.Photo, _Mapping]] = ..., registration: _Optional[_Union[_ableid_pb2.Address, _Mapping]] = ..., person: _Optional[_Union[_ableid_pb2.Person, _Mapping]] = ..., data_failed: _Optional[_Union[DataFailed, _Mapping]] = ..., baf_status_changed: _Optional[_Union[BafStatusChanged, _Mapping]] = ..., baf_attempt_added: _Optional[_Union[BafAttemptAdded, _Mapping]] = ..., user_returned: _Optional[_Union[UserReturned, _Mapping]] = ..., raw: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., media: _Optional[_Iterable[_Union[Media, _Mapping]]] = ...) -> None: ...

class Media(_message.Message):
    __slots__ = ("media_id", "field", "content_type", "size_bytes", "sha256")
    MEDIA_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    media_id: str
    field: str
    content_type: str
    size_bytes: int
    sha256: str
    def __init__(self, media_id: _Optional[str] = ..., field: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class Started(_message.Message):
    __slots__ = ("transaction_id", "url", "expire_time", "lang")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LANG_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    url: str
    expire_time: _timestamp_pb2.Timestamp
    lang: str
    def __init__(self, transaction_id: _Optional[str] = ..., url: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lang: _Optional[str] = ...) -> None: ...

class Completed(_message.Message):
    __slots__ = ("status_code", "type", "message", "redirect", "transaction_id")
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    type: str
    message: str
    redirect: str
    transaction_id: str
    def __init__(self, status_code: _Optional[int] = ..., type: _Optional[str] = ..., message: _Optional[str] = ..., redirect: _Optional[str] = ..., transaction_id: _Optional[str] = ...) -> None: ...

class Failed(_message.Message):
    __slots__ = ("status_code", "type", "message")
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    type: str
    message: str
    def __init__(self, status_code: _Optional[int] = ..., type: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Expired(_message.Message):
    __slots__ = ("expire_time",)
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DataFailed(_message.Message):
    __slots__ = ("data_kind", "status_code", "type", "message")
    DATA_KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    data_kind: DataKind
    status_code: int
    type: str
    message: str
    def __init__(self, data_kind: _Optional[_Union[DataKind, str]] = ..., status_code: _Optional[int] = ..., type: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class BafStatusChanged(_message.Message):
    __slots__ = ("status", "raw_status", "status_name", "completed", "attempts_used")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAW_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_USED_FIELD_NUMBER: _ClassVar[int]
    status: _applicants_pb2.ApplicantStatus
    raw_status: int
    status_name: str
    completed: bool
    attempts_used: int
    def __init__(self, status: _Optional[_Union[_applicants_pb2.ApplicantStatus, str]] = ..., raw_status: _Optional[int] = ..., status_name: _Optional[str] = ..., completed: _Optional[bool] = ..., attempts_used: _Optional[int] = ...) -> None: ...

class BafAttemptAdded(_message.Message):
    __slots__ = ("attempt",)
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    attempt: _applicants_pb2.Attempt
    def __init__(self, attempt: _Optional[_Union[_applicants_pb2.Attempt, _Mapping]] = ...) -> None: ...

class UserReturned(_message.Message):
    __slots__ = ("redirect_url",)
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    redirect_url: str
    def __init__(self, redirect_url: _Optional[str] = ...) -> None: ...

class GetAttemptRequest(_message.Message):
    __slots__ = ("ableid_attempt_id", "baf_applicant_id")
    ABLEID_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    BAF_APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ableid_attempt_id: str
    baf_applicant_id: str
    def __init__(self, ableid_attempt_id: _Optional[str] = ..., baf_applicant_id: _Optional[str] = ...) -> None: ...

class GetAttemptResponse(_message.Message):
    __slots__ = ("attempt",)
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    attempt: Attempt
    def __init__(self, attempt: _Optional[_Union[Attempt, _Mapping]] = ...) -> None: ...

class ListAttemptEventsRequest(_message.Message):
    __slots__ = ("ableid_attempt_id", "baf_applicant_id", "page_size", "page_token")
    ABLEID_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    BAF_APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ableid_attempt_id: str
    baf_applicant_id: str
    page_size: int
    page_token: str
    def __init__(self, ableid_attempt_id: _Optional[str] = ..., baf_applicant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAttemptEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AttemptEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[AttemptEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DownloadAttemptMediaRequest(_message.Message):
    __slots__ = ("ableid_attempt_id", "baf_applicant_id", "media_id")
    ABLEID_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    BAF_APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_ID_FIELD_NUMBER: _ClassVar[int]
    ableid_attempt_id: str
    baf_applicant_id: str
    media_id: str
    def __init__(self, ableid_attempt_id: _Optional[str] = ..., baf_applicant_id: _Optional[str] = ..., media_id: _Optional[str] = ...) -> None: ...

class DownloadAttemptMediaResponse(_message.Message):
    __slots__ = ("chunk", "content_type", "content_length")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    content_type: str
    content_length: int
    def __init__(self, chunk: _Optional[bytes] = ..., content_type: _Optional[str] = ..., content_length: _Optional[int] = ...) -> None: ...

class WatchAttemptRequest(_message.Message):
    __slots__ = ("ableid_attempt_id", "baf_applicant_id", "resume_token", "follow_after_terminal")
    ABLEID_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    BAF_APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_AFTER_TERMINAL_FIELD_NUMBER: _ClassVar[int]
    ableid_attempt_id: str
    baf_applicant_id: str
    resume_token: str
    follow_after_terminal: bool
    def __init__(self, ableid_attempt_id: _Optional[str] = ..., baf_applicant_id: _Optional[str] = ..., resume_token: _Optional[str] = ..., follow_after_terminal: _Optional[bool] = ...) -> None: ...

class WatchAttemptResponse(_message.Message):
    __slots__ = ("resume_token", "attempt", "event", "heartbeat")
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    resume_token: str
    attempt: Attempt
    event: AttemptEvent
    heartbeat: Heartbeat
    def __init__(self, resume_token: _Optional[str] = ..., attempt: _Optional[_Union[Attempt, _Mapping]] = ..., event: _Optional[_Union[AttemptEvent, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("time",)
    TIME_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
