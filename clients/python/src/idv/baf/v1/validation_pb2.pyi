from google.api import field_behavior_pb2 as _field_behavior_pb2
from idv.baf.v1 import applicants_pb2 as _applicants_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VerifyDocumentRequest(_message.Message):
    __slots__ = ("applicant_id", "endeavor_id", "face_image_base64", "front_image_base64", "back_or_second_image_base64", "document_type")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDEAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    FRONT_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    BACK_OR_SECOND_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    endeavor_id: str
    face_image_base64: bytes
    front_image_base64: bytes
    back_or_second_image_base64: bytes
    document_type: int
    def __init__(self, applicant_id: _Optional[str] = ..., endeavor_id: _Optional[str] = ..., face_image_base64: _Optional[bytes] = ..., front_image_base64: _Optional[bytes] = ..., back_or_second_image_base64: _Optional[bytes] = ..., document_type: _Optional[int] = ...) -> None: ...

class VerifyDocumentResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ValidationResult
    def __init__(self, result: _Optional[_Union[ValidationResult, _Mapping]] = ...) -> None: ...

class RegisterFaceRequest(_message.Message):
    __slots__ = ("applicant_id", "endeavor_id", "face_image_base64")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDEAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    endeavor_id: str
    face_image_base64: bytes
    def __init__(self, applicant_id: _Optional[str] = ..., endeavor_id: _Optional[str] = ..., face_image_base64: _Optional[bytes] = ...) -> None: ...

class RegisterFaceResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ValidationResult
    def __init__(self, result: _Optional[_Union[ValidationResult, _Mapping]] = ...) -> None: ...

class AuthorizeFaceRequest(_message.Message):
    __slots__ = ("applicant_id", "endeavor_id", "face_image_base64")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ENDEAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    endeavor_id: str
    face_image_base64: bytes
    def __init__(self, applicant_id: _Optional[str] = ..., endeavor_id: _Optional[str] = ..., face_image_base64: _Optional[bytes] = ...) -> None: ...

class AuthorizeFaceResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ValidationResult
    def __init__(self, result: _Optional[_Union[ValidationResult, _Mapping]] = ...) -> None: ...

class ValidationResult(_message.Message):
    __slots__ = ("applicant_id", "attempt_id", "document_type", "document", "attempts_count", "attempts_left", "status", "raw_status", "validation_status", "invalid_data_errors", "face_success", "document_success", "document_has_not_expired", "document_validation_tests", "call_back_url")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_LEFT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAW_STATUS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    INVALID_DATA_ERRORS_FIELD_NUMBER: _ClassVar[int]
    FACE_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_HAS_NOT_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_VALIDATION_TESTS_FIELD_NUMBER: _ClassVar[int]
    CALL_BACK_URL_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    attempt_id: int
    document_type: int
    document: _applicants_pb2.DvsDocument
    attempts_count: int
    attempts_left: int
    status: _applicants_pb2.ValidationOutcome
    raw_status: int
    validation_status: _applicants_pb2.ValidationStatus
    invalid_data_errors: _containers.RepeatedCompositeFieldContainer[_applicants_pb2.InvalidDataError]
    face_success: bool
    document_success: bool
    document_has_not_expired: bool
    document_validation_tests: _containers.RepeatedCompositeFieldContainer[_applicants_pb2.DocumentValidationTest]
    call_back_url: str
    def __init__(self, applicant_id: _Optional[str] = ..., attempt_id: _Optional[int] = ..., document_type: _Optional[int] = ..., document: _Optional[_Union[_applicants_pb2.DvsDocument, _Mapping]] = ..., attempts_count: _Optional[int] = ..., attempts_left: _Optional[int] = ..., status: _Optional[_Union[_applicants_pb2.ValidationOutcome, str]] = ..., raw_status: _Optional[int] = ..., validation_status: _Optional[_Union[_applicants_pb2.ValidationStatus, _Mapping]] = ..., invalid_data_errors: _Optional[_Iterable[_Union[_applicants_pb2.InvalidDataError, _Mapping]]] = ..., face_success: _Optional[bool] = ..., document_success: _Optional[bool] = ..., document_has_not_expired: _Optional[bool] = ..., document_validation_tests: _Optional[_Iterable[_Union[_applicants_pb2.DocumentValidationTest, _Mapping]]] = ..., call_back_url: _Optional[str] = ...) -> None: ...
