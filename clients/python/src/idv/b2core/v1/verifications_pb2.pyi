import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListVerificationsRequest(_message.Message):
    __slots__ = ("limit", "offset", "sort_order", "sort_by")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SORT_ORDER_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    limit: int
    offset: int
    sort_order: str
    sort_by: str
    def __init__(self, limit: _Optional[int] = ..., offset: _Optional[int] = ..., sort_order: _Optional[str] = ..., sort_by: _Optional[str] = ...) -> None: ...

class ListVerificationsResponse(_message.Message):
    __slots__ = ("total", "data")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    total: int
    data: _containers.RepeatedCompositeFieldContainer[Verification]
    def __init__(self, total: _Optional[int] = ..., data: _Optional[_Iterable[_Union[Verification, _Mapping]]] = ...) -> None: ...

class Verification(_message.Message):
    __slots__ = ("id", "client_id", "current_level", "previous_level", "reason", "user_id", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_LEVEL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_LEVEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    client_id: int
    current_level: VerificationLevel
    previous_level: VerificationLevel
    reason: VerificationReason
    user_id: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., client_id: _Optional[int] = ..., current_level: _Optional[_Union[VerificationLevel, _Mapping]] = ..., previous_level: _Optional[_Union[VerificationLevel, _Mapping]] = ..., reason: _Optional[_Union[VerificationReason, _Mapping]] = ..., user_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VerificationLevel(_message.Message):
    __slots__ = ("id", "name")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class VerificationReason(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetVerificationRequest(_message.Message):
    __slots__ = ("verification_id",)
    VERIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    verification_id: int
    def __init__(self, verification_id: _Optional[int] = ...) -> None: ...

class GetVerificationResponse(_message.Message):
    __slots__ = ("total", "data")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    total: int
    data: _containers.RepeatedCompositeFieldContainer[Verification]
    def __init__(self, total: _Optional[int] = ..., data: _Optional[_Iterable[_Union[Verification, _Mapping]]] = ...) -> None: ...

class StartVerificationWizardRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StartVerificationWizardResponse(_message.Message):
    __slots__ = ("code", "data", "done", "uuid", "workflow")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    code: int
    data: _struct_pb2.Value
    done: bool
    uuid: str
    workflow: str
    def __init__(self, code: _Optional[int] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., done: _Optional[bool] = ..., uuid: _Optional[str] = ..., workflow: _Optional[str] = ...) -> None: ...

class SubmitVerificationRequest(_message.Message):
    __slots__ = ("documents", "uuid")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    documents: VerificationDocuments
    uuid: str
    def __init__(self, documents: _Optional[_Union[VerificationDocuments, _Mapping]] = ..., uuid: _Optional[str] = ...) -> None: ...

class VerificationDocuments(_message.Message):
    __slots__ = ("type", "files")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    type: int
    files: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, type: _Optional[int] = ..., files: _Optional[_Iterable[str]] = ...) -> None: ...

class SubmitVerificationResponse(_message.Message):
    __slots__ = ("code", "data", "done", "uuid", "workflow")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    code: int
    data: _struct_pb2.Value
    done: bool
    uuid: str
    workflow: str
    def __init__(self, code: _Optional[int] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., done: _Optional[bool] = ..., uuid: _Optional[str] = ..., workflow: _Optional[str] = ...) -> None: ...
