import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplicantStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLICANT_STATUS_UNSPECIFIED: _ClassVar[ApplicantStatus]
    APPLICANT_STATUS_PENDING: _ClassVar[ApplicantStatus]
    APPLICANT_STATUS_SUCCESS: _ClassVar[ApplicantStatus]
    APPLICANT_STATUS_FAILED: _ClassVar[ApplicantStatus]
    APPLICANT_STATUS_CANCELED: _ClassVar[ApplicantStatus]
    APPLICANT_STATUS_FAILED_ATTEMPT: _ClassVar[ApplicantStatus]

class VerificationMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERIFICATION_METHOD_UNSPECIFIED: _ClassVar[VerificationMethod]
    VERIFICATION_METHOD_SMS: _ClassVar[VerificationMethod]
    VERIFICATION_METHOD_MANUAL: _ClassVar[VerificationMethod]

class ValidationOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALIDATION_OUTCOME_UNSPECIFIED: _ClassVar[ValidationOutcome]
    VALIDATION_OUTCOME_SUCCESS: _ClassVar[ValidationOutcome]
    VALIDATION_OUTCOME_FAIL: _ClassVar[ValidationOutcome]
    VALIDATION_OUTCOME_INVALID_DATA: _ClassVar[ValidationOutcome]
    VALIDATION_OUTCOME_ERROR: _ClassVar[ValidationOutcome]
APPLICANT_STATUS_UNSPECIFIED: ApplicantStatus
APPLICANT_STATUS_PENDING: ApplicantStatus
APPLICANT_STATUS_SUCCESS: ApplicantStatus
APPLICANT_STATUS_FAILED: ApplicantStatus
APPLICANT_STATUS_CANCELED: ApplicantStatus
APPLICANT_STATUS_FAILED_ATTEMPT: ApplicantStatus
VERIFICATION_METHOD_UNSPECIFIED: VerificationMethod
VERIFICATION_METHOD_SMS: VerificationMethod
VERIFICATION_METHOD_MANUAL: VerificationMethod
VALIDATION_OUTCOME_UNSPECIFIED: ValidationOutcome
VALIDATION_OUTCOME_SUCCESS: ValidationOutcome
VALIDATION_OUTCOME_FAIL: ValidationOutcome
VALIDATION_OUTCOME_INVALID_DATA: ValidationOutcome
VALIDATION_OUTCOME_ERROR: ValidationOutcome

class ApplicantCase(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: int
    value: str
    def __init__(self, name: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...

class CreateApplicantRequest(_message.Message):
    __slots__ = ("first_name", "last_name", "phone", "email", "reference_id", "metadata", "callback_url", "send_sms", "case", "status", "verification_method")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    SEND_SMS_FIELD_NUMBER: _ClassVar[int]
    CASE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_METHOD_FIELD_NUMBER: _ClassVar[int]
    first_name: str
    last_name: str
    phone: str
    email: str
    reference_id: str
    metadata: _containers.ScalarMap[str, str]
    callback_url: str
    send_sms: bool
    case: _containers.RepeatedCompositeFieldContainer[ApplicantCase]
    status: ApplicantStatus
    verification_method: VerificationMethod
    def __init__(self, first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., reference_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., callback_url: _Optional[str] = ..., send_sms: _Optional[bool] = ..., case: _Optional[_Iterable[_Union[ApplicantCase, _Mapping]]] = ..., status: _Optional[_Union[ApplicantStatus, str]] = ..., verification_method: _Optional[_Union[VerificationMethod, str]] = ...) -> None: ...

class CreateApplicantResponse(_message.Message):
    __slots__ = ("applicant_id", "validation_link", "short_validation_link")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_LINK_FIELD_NUMBER: _ClassVar[int]
    SHORT_VALIDATION_LINK_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    validation_link: str
    short_validation_link: str
    def __init__(self, applicant_id: _Optional[str] = ..., validation_link: _Optional[str] = ..., short_validation_link: _Optional[str] = ...) -> None: ...

class ListApplicantsRequest(_message.Message):
    __slots__ = ("page", "page_size", "created_from", "created_to", "sort_field", "order", "text_filter")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FROM_FIELD_NUMBER: _ClassVar[int]
    CREATED_TO_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FILTER_FIELD_NUMBER: _ClassVar[int]
    page: int
    page_size: int
    created_from: str
    created_to: str
    sort_field: str
    order: str
    text_filter: str
    def __init__(self, page: _Optional[int] = ..., page_size: _Optional[int] = ..., created_from: _Optional[str] = ..., created_to: _Optional[str] = ..., sort_field: _Optional[str] = ..., order: _Optional[str] = ..., text_filter: _Optional[str] = ...) -> None: ...

class ListApplicantsResponse(_message.Message):
    __slots__ = ("page", "page_size", "total", "total_pages", "items")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    page: int
    page_size: int
    total: int
    total_pages: int
    items: _containers.RepeatedCompositeFieldContainer[Applicant]
    def __init__(self, page: _Optional[int] = ..., page_size: _Optional[int] = ..., total: _Optional[int] = ..., total_pages: _Optional[int] = ..., items: _Optional[_Iterable[_Union[Applicant, _Mapping]]] = ...) -> None: ...

class Applicant(_message.Message):
    __slots__ = ("applicant_id", "attempts_count", "last_attempt_id", "success_attempt_id", "success_attempt", "first_name", "last_name", "phone", "email", "reference_id", "opened_link_times", "created", "account_id", "validation_request_settings", "completed", "status", "raw_status", "status_name", "attempts_used", "document_expired", "last_validation_response", "has_risk_events", "metadata", "callback_url", "verification_method", "raw_verification_method")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    OPENED_LINK_TIMES_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_REQUEST_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAW_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_USED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    LAST_VALIDATION_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    HAS_RISK_EVENTS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_METHOD_FIELD_NUMBER: _ClassVar[int]
    RAW_VERIFICATION_METHOD_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    attempts_count: int
    last_attempt_id: int
    success_attempt_id: int
    success_attempt: Attempt
    first_name: str
    last_name: str
    phone: str
    email: str
    reference_id: str
    opened_link_times: int
    created: _timestamp_pb2.Timestamp
    account_id: str
    validation_request_settings: ValidationRequestSettings
    completed: bool
    status: ApplicantStatus
    raw_status: int
    status_name: str
    attempts_used: int
    document_expired: bool
    last_validation_response: ValidationResponseSummary
    has_risk_events: bool
    metadata: _containers.ScalarMap[str, str]
    callback_url: str
    verification_method: VerificationMethod
    raw_verification_method: int
    def __init__(self, applicant_id: _Optional[str] = ..., attempts_count: _Optional[int] = ..., last_attempt_id: _Optional[int] = ..., success_attempt_id: _Optional[int] = ..., success_attempt: _Optional[_Union[Attempt, _Mapping]] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., reference_id: _Optional[str] = ..., opened_link_times: _Optional[int] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[str] = ..., validation_request_settings: _Optional[_Union[ValidationRequestSettings, _Mapping]] = ..., completed: _Optional[bool] = ..., status: _Optional[_Union[ApplicantStatus, str]] = ..., raw_status: _Optional[int] = ..., status_name: _Optional[str] = ..., attempts_used: _Optional[int] = ..., document_expired: _Optional[bool] = ..., last_validation_response: _Optional[_Union[ValidationResponseSummary, _Mapping]] = ..., has_risk_events: _Optional[bool] = ..., metadata: _Optional[_Mapping[str, str]] = ..., callback_url: _Optional[str] = ..., verification_method: _Optional[_Union[VerificationMethod, str]] = ..., raw_verification_method: _Optional[int] = ...) -> None: ...

class ValidationResponseSummary(_message.Message):
    __slots__ = ("validation_response_id", "created", "response_status", "raw_response_status", "response_status_name")
    VALIDATION_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_STATUS_FIELD_NUMBER: _ClassVar[int]
    RAW_RESPONSE_STATUS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_STATUS_NAME_FIELD_NUMBER: _ClassVar[int]
    validation_response_id: int
    created: _timestamp_pb2.Timestamp
    response_status: ValidationOutcome
    raw_response_status: int
    response_status_name: str
    def __init__(self, validation_response_id: _Optional[int] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_status: _Optional[_Union[ValidationOutcome, str]] = ..., raw_response_status: _Optional[int] = ..., response_status_name: _Optional[str] = ...) -> None: ...

class ValidationRequestSettings(_message.Message):
    __slots__ = ("validation_request_id", "face_validation_percent", "document_validation_percent", "quality_score", "liveness_reflection_score", "anti_spoofing_percent", "verify_face", "is_ocr_enabled", "is_address_check_enabled", "is_face_required_on_document", "is_cross_match_required", "is_dmv_enabled", "is_dmv_partial_enabled", "is_identi_fraud_enabled", "is_identi_fraud_full_case_enabled", "is_dmv_or_identi_fraud_enabled", "is_dmv_and_identi_fraud_enabled", "is_dmv_or_identi_fraud_partial_enabled", "is_dmv_and_identi_fraud_partial_enabled", "is_gender_check_enabled", "is_age_check_enabled", "age_years_difference", "show_consent_form")
    VALIDATION_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_VALIDATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_VALIDATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_REFLECTION_SCORE_FIELD_NUMBER: _ClassVar[int]
    ANTI_SPOOFING_PERCENT_FIELD_NUMBER: _ClassVar[int]
    VERIFY_FACE_FIELD_NUMBER: _ClassVar[int]
    IS_OCR_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_ADDRESS_CHECK_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_FACE_REQUIRED_ON_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    IS_CROSS_MATCH_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    IS_DMV_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_DMV_PARTIAL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_IDENTI_FRAUD_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_IDENTI_FRAUD_FULL_CASE_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_DMV_OR_IDENTI_FRAUD_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_DMV_AND_IDENTI_FRAUD_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_DMV_OR_IDENTI_FRAUD_PARTIAL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_DMV_AND_IDENTI_FRAUD_PARTIAL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_GENDER_CHECK_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_AGE_CHECK_ENABLED_FIELD_NUMBER: _ClassVar[int]
    AGE_YEARS_DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    SHOW_CONSENT_FORM_FIELD_NUMBER: _ClassVar[int]
    validation_request_id: str
    face_validation_percent: float
    document_validation_percent: float
    quality_score: float
    liveness_reflection_score: float
    anti_spoofing_percent: float
    verify_face: bool
    is_ocr_enabled: bool
    is_address_check_enabled: bool
    is_face_required_on_document: bool
    is_cross_match_required: bool
    is_dmv_enabled: bool
    is_dmv_partial_enabled: bool
    is_identi_fraud_enabled: bool
    is_identi_fraud_full_case_enabled: bool
    is_dmv_or_identi_fraud_enabled: bool
    is_dmv_and_identi_fraud_enabled: bool
    is_dmv_or_identi_fraud_partial_enabled: bool
    is_dmv_and_identi_fraud_partial_enabled: bool
    is_gender_check_enabled: bool
    is_age_check_enabled: bool
    age_years_difference: int
    show_consent_form: bool
    def __init__(self, validation_request_id: _Optional[str] = ..., face_validation_percent: _Optional[float] = ..., document_validation_percent: _Optional[float] = ..., quality_score: _Optional[float] = ..., liveness_reflection_score: _Optional[float] = ..., anti_spoofing_percent: _Optional[float] = ..., verify_face: _Optional[bool] = ..., is_ocr_enabled: _Optional[bool] = ..., is_address_check_enabled: _Optional[bool] = ..., is_face_required_on_document: _Optional[bool] = ..., is_cross_match_required: _Optional[bool] = ..., is_dmv_enabled: _Optional[bool] = ..., is_dmv_partial_enabled: _Optional[bool] = ..., is_identi_fraud_enabled: _Optional[bool] = ..., is_identi_fraud_full_case_enabled: _Optional[bool] = ..., is_dmv_or_identi_fraud_enabled: _Optional[bool] = ..., is_dmv_and_identi_fraud_enabled: _Optional[bool] = ..., is_dmv_or_identi_fraud_partial_enabled: _Optional[bool] = ..., is_dmv_and_identi_fraud_partial_enabled: _Optional[bool] = ..., is_gender_check_enabled: _Optional[bool] = ..., is_age_check_enabled: _Optional[bool] = ..., age_years_difference: _Optional[int] = ..., show_consent_form: _Optional[bool] = ...) -> None: ...

class Attempt(_message.Message):
    __slots__ = ("attempt_id", "created", "document_type", "document_type_int", "has_risk_events", "status", "raw_status", "validation_status", "validations", "document")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_INT_FIELD_NUMBER: _ClassVar[int]
    HAS_RISK_EVENTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAW_STATUS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    VALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    attempt_id: int
    created: _timestamp_pb2.Timestamp
    document_type: str
    document_type_int: int
    has_risk_events: bool
    status: ValidationOutcome
    raw_status: int
    validation_status: ValidationStatus
    validations: Validations
    document: DvsDocument
    def __init__(self, attempt_id: _Optional[int] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., document_type: _Optional[str] = ..., document_type_int: _Optional[int] = ..., has_risk_events: _Optional[bool] = ..., status: _Optional[_Union[ValidationOutcome, str]] = ..., raw_status: _Optional[int] = ..., validation_status: _Optional[_Union[ValidationStatus, _Mapping]] = ..., validations: _Optional[_Union[Validations, _Mapping]] = ..., document: _Optional[_Union[DvsDocument, _Mapping]] = ...) -> None: ...

class ValidationStatus(_message.Message):
    __slots__ = ("expired", "document_is_valid", "face_is_valid", "anti_spoofing_is_valid", "profile_already_exists", "quality_is_valid", "liveness_reflection_is_valid", "has_been_black_listed")
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_IS_VALID_FIELD_NUMBER: _ClassVar[int]
    FACE_IS_VALID_FIELD_NUMBER: _ClassVar[int]
    ANTI_SPOOFING_IS_VALID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_ALREADY_EXISTS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_IS_VALID_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_REFLECTION_IS_VALID_FIELD_NUMBER: _ClassVar[int]
    HAS_BEEN_BLACK_LISTED_FIELD_NUMBER: _ClassVar[int]
    expired: bool
    document_is_valid: bool
    face_is_valid: bool
    anti_spoofing_is_valid: bool
    profile_already_exists: bool
    quality_is_valid: bool
    liveness_reflection_is_valid: bool
    has_been_black_listed: bool
    def __init__(self, expired: _Optional[bool] = ..., document_is_valid: _Optional[bool] = ..., face_is_valid: _Optional[bool] = ..., anti_spoofing_is_valid: _Optional[bool] = ..., profile_already_exists: _Optional[bool] = ..., quality_is_valid: _Optional[bool] = ..., liveness_reflection_is_valid: _Optional[bool] = ..., has_been_black_listed: _Optional[bool] = ...) -> None: ...

class Validations(_message.Message):
    __slots__ = ("liveness", "quality", "matching", "motion_control")
    LIVENESS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    MATCHING_FIELD_NUMBER: _ClassVar[int]
    MOTION_CONTROL_FIELD_NUMBER: _ClassVar[int]
    liveness: ValidationCheck
    quality: ValidationCheck
    matching: ValidationCheck
    motion_control: MotionControl
    def __init__(self, liveness: _Optional[_Union[ValidationCheck, _Mapping]] = ..., quality: _Optional[_Union[ValidationCheck, _Mapping]] = ..., matching: _Optional[_Union[ValidationCheck, _Mapping]] = ..., motion_control: _Optional[_Union[MotionControl, _Mapping]] = ...) -> None: ...

class ValidationCheck(_message.Message):
    __slots__ = ("verdict", "details")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    verdict: bool
    details: _containers.RepeatedCompositeFieldContainer[ValidationDetail]
    def __init__(self, verdict: _Optional[bool] = ..., details: _Optional[_Iterable[_Union[ValidationDetail, _Mapping]]] = ...) -> None: ...

class ValidationDetail(_message.Message):
    __slots__ = ("name", "verdict", "score")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    verdict: bool
    score: float
    def __init__(self, name: _Optional[str] = ..., verdict: _Optional[bool] = ..., score: _Optional[float] = ...) -> None: ...

class MotionControl(_message.Message):
    __slots__ = ("verdict", "motion_control_info")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    MOTION_CONTROL_INFO_FIELD_NUMBER: _ClassVar[int]
    verdict: bool
    motion_control_info: _containers.RepeatedCompositeFieldContainer[MotionControlInfo]
    def __init__(self, verdict: _Optional[bool] = ..., motion_control_info: _Optional[_Iterable[_Union[MotionControlInfo, _Mapping]]] = ...) -> None: ...

class MotionControlInfo(_message.Message):
    __slots__ = ("pattern", "result")
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    pattern: str
    result: bool
    def __init__(self, pattern: _Optional[str] = ..., result: _Optional[bool] = ...) -> None: ...

class DvsDocument(_message.Message):
    __slots__ = ("abbr3_country", "abbr_country", "address", "city", "document_class", "country", "dob", "expires", "eyes", "family_name", "first_name", "full_name", "gender", "hair", "height", "id", "id_type", "issued", "middle_name", "postal_box", "state", "issued_by", "template", "weight", "zip", "private_name")
    ABBR3_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    ABBR_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_CLASS_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    DOB_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    EYES_FIELD_NUMBER: _ClassVar[int]
    FAMILY_NAME_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    HAIR_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ID_TYPE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    MIDDLE_NAME_FIELD_NUMBER: _ClassVar[int]
    POSTAL_BOX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_BY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    ZIP_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_NAME_FIELD_NUMBER: _ClassVar[int]
    abbr3_country: str
    abbr_country: str
    address: str
    city: str
    document_class: str
    country: str
    dob: str
    expires: str
    eyes: str
    family_name: str
    first_name: str
    full_name: str
    gender: str
    hair: str
    height: str
    id: str
    id_type: str
    issued: str
    middle_name: str
    postal_box: str
    state: str
    issued_by: str
    template: str
    weight: str
    zip: str
    private_name: str
    def __init__(self, abbr3_country: _Optional[str] = ..., abbr_country: _Optional[str] = ..., address: _Optional[str] = ..., city: _Optional[str] = ..., document_class: _Optional[str] = ..., country: _Optional[str] = ..., dob: _Optional[str] = ..., expires: _Optional[str] = ..., eyes: _Optional[str] = ..., family_name: _Optional[str] = ..., first_name: _Optional[str] = ..., full_name: _Optional[str] = ..., gender: _Optional[str] = ..., hair: _Optional[str] = ..., height: _Optional[str] = ..., id: _Optional[str] = ..., id_type: _Optional[str] = ..., issued: _Optional[str] = ..., middle_name: _Optional[str] = ..., postal_box: _Optional[str] = ..., state: _Optional[str] = ..., issued_by: _Optional[str] = ..., template: _Optional[str] = ..., weight: _Optional[str] = ..., zip: _Optional[str] = ..., private_name: _Optional[str] = ...) -> None: ...

class InvalidDataError(_message.Message):
    __slots__ = ("code", "message", "description")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    description: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class DocumentValidationTest(_message.Message):
    __slots__ = ("raw_response", "name", "display_name", "reason", "effect", "values", "effect_string", "status", "status_string")
    RAW_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    EFFECT_STRING_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_STRING_FIELD_NUMBER: _ClassVar[int]
    raw_response: str
    name: str
    display_name: str
    reason: str
    effect: int
    values: _containers.RepeatedCompositeFieldContainer[DocumentValidationValue]
    effect_string: str
    status: int
    status_string: str
    def __init__(self, raw_response: _Optional[str] = ..., name: _Optional[str] = ..., display_name: _Optional[str] = ..., reason: _Optional[str] = ..., effect: _Optional[int] = ..., values: _Optional[_Iterable[_Union[DocumentValidationValue, _Mapping]]] = ..., effect_string: _Optional[str] = ..., status: _Optional[int] = ..., status_string: _Optional[str] = ...) -> None: ...

class DocumentValidationValue(_message.Message):
    __slots__ = ("score", "effect", "field_name", "effect_string")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    EFFECT_STRING_FIELD_NUMBER: _ClassVar[int]
    score: float
    effect: int
    field_name: str
    effect_string: str
    def __init__(self, score: _Optional[float] = ..., effect: _Optional[int] = ..., field_name: _Optional[str] = ..., effect_string: _Optional[str] = ...) -> None: ...

class ParsedData(_message.Message):
    __slots__ = ("is_ocr_success", "is_pdf417_success", "is_mrz_success", "is_shufti_success", "is_anti_spoofing_success")
    IS_OCR_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    IS_PDF417_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    IS_MRZ_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    IS_SHUFTI_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    IS_ANTI_SPOOFING_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    is_ocr_success: bool
    is_pdf417_success: bool
    is_mrz_success: bool
    is_shufti_success: bool
    is_anti_spoofing_success: bool
    def __init__(self, is_ocr_success: _Optional[bool] = ..., is_pdf417_success: _Optional[bool] = ..., is_mrz_success: _Optional[bool] = ..., is_shufti_success: _Optional[bool] = ..., is_anti_spoofing_success: _Optional[bool] = ...) -> None: ...

class DocumentVerificationResult(_message.Message):
    __slots__ = ("status", "total_confidence", "validation_tests", "verification_confidence")
    class VerificationConfidenceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_TESTS_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    status: int
    total_confidence: float
    validation_tests: _containers.RepeatedCompositeFieldContainer[DocumentValidationTest]
    verification_confidence: _containers.ScalarMap[str, float]
    def __init__(self, status: _Optional[int] = ..., total_confidence: _Optional[float] = ..., validation_tests: _Optional[_Iterable[_Union[DocumentValidationTest, _Mapping]]] = ..., verification_confidence: _Optional[_Mapping[str, float]] = ...) -> None: ...

class FaceVerificationResult(_message.Message):
    __slots__ = ("anti_spoofing", "quality", "confidence", "liveness_reflection_confidence")
    ANTI_SPOOFING_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_REFLECTION_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    anti_spoofing: float
    quality: float
    confidence: float
    liveness_reflection_confidence: float
    def __init__(self, anti_spoofing: _Optional[float] = ..., quality: _Optional[float] = ..., confidence: _Optional[float] = ..., liveness_reflection_confidence: _Optional[float] = ...) -> None: ...

class DvsResult(_message.Message):
    __slots__ = ("request_id", "document_type", "capture_method", "document", "parsed_data", "document_verification_result", "face_verification_result")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_METHOD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    PARSED_DATA_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_VERIFICATION_RESULT_FIELD_NUMBER: _ClassVar[int]
    FACE_VERIFICATION_RESULT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    document_type: int
    capture_method: str
    document: DvsDocument
    parsed_data: ParsedData
    document_verification_result: DocumentVerificationResult
    face_verification_result: FaceVerificationResult
    def __init__(self, request_id: _Optional[str] = ..., document_type: _Optional[int] = ..., capture_method: _Optional[str] = ..., document: _Optional[_Union[DvsDocument, _Mapping]] = ..., parsed_data: _Optional[_Union[ParsedData, _Mapping]] = ..., document_verification_result: _Optional[_Union[DocumentVerificationResult, _Mapping]] = ..., face_verification_result: _Optional[_Union[FaceVerificationResult, _Mapping]] = ...) -> None: ...

class SimilarApplicants(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AttemptContent(_message.Message):
    __slots__ = ("liveness_reflection_video_link", "back_or_second_image_base64", "face_image_base64", "front_image_base64", "track_string")
    LIVENESS_REFLECTION_VIDEO_LINK_FIELD_NUMBER: _ClassVar[int]
    BACK_OR_SECOND_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    FACE_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    FRONT_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    TRACK_STRING_FIELD_NUMBER: _ClassVar[int]
    liveness_reflection_video_link: str
    back_or_second_image_base64: bytes
    face_image_base64: bytes
    front_image_base64: bytes
    track_string: str
    def __init__(self, liveness_reflection_video_link: _Optional[str] = ..., back_or_second_image_base64: _Optional[bytes] = ..., face_image_base64: _Optional[bytes] = ..., front_image_base64: _Optional[bytes] = ..., track_string: _Optional[str] = ...) -> None: ...

class AttemptDetails(_message.Message):
    __slots__ = ("attempt_id", "applicant_id", "created", "document_type", "document_type_int", "has_risk_events", "status", "raw_status", "validation_status", "validations", "document_fail_status_reasons", "face_fail_status_reasons", "invalid_data_errors", "dvs_result", "similar_applicants", "mobile_phone_model", "mobile_phone_os", "capture_method", "request_ip_address", "content")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_INT_FIELD_NUMBER: _ClassVar[int]
    HAS_RISK_EVENTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAW_STATUS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    VALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FAIL_STATUS_REASONS_FIELD_NUMBER: _ClassVar[int]
    FACE_FAIL_STATUS_REASONS_FIELD_NUMBER: _ClassVar[int]
    INVALID_DATA_ERRORS_FIELD_NUMBER: _ClassVar[int]
    DVS_RESULT_FIELD_NUMBER: _ClassVar[int]
    SIMILAR_APPLICANTS_FIELD_NUMBER: _ClassVar[int]
    MOBILE_PHONE_MODEL_FIELD_NUMBER: _ClassVar[int]
    MOBILE_PHONE_OS_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_METHOD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    attempt_id: int
    applicant_id: str
    created: _timestamp_pb2.Timestamp
    document_type: str
    document_type_int: int
    has_risk_events: bool
    status: ValidationOutcome
    raw_status: int
    validation_status: ValidationStatus
    validations: Validations
    document_fail_status_reasons: _containers.RepeatedScalarFieldContainer[str]
    face_fail_status_reasons: _containers.RepeatedScalarFieldContainer[str]
    invalid_data_errors: _containers.RepeatedCompositeFieldContainer[InvalidDataError]
    dvs_result: DvsResult
    similar_applicants: SimilarApplicants
    mobile_phone_model: str
    mobile_phone_os: str
    capture_method: str
    request_ip_address: str
    content: AttemptContent
    def __init__(self, attempt_id: _Optional[int] = ..., applicant_id: _Optional[str] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., document_type: _Optional[str] = ..., document_type_int: _Optional[int] = ..., has_risk_events: _Optional[bool] = ..., status: _Optional[_Union[ValidationOutcome, str]] = ..., raw_status: _Optional[int] = ..., validation_status: _Optional[_Union[ValidationStatus, _Mapping]] = ..., validations: _Optional[_Union[Validations, _Mapping]] = ..., document_fail_status_reasons: _Optional[_Iterable[str]] = ..., face_fail_status_reasons: _Optional[_Iterable[str]] = ..., invalid_data_errors: _Optional[_Iterable[_Union[InvalidDataError, _Mapping]]] = ..., dvs_result: _Optional[_Union[DvsResult, _Mapping]] = ..., similar_applicants: _Optional[_Union[SimilarApplicants, _Mapping]] = ..., mobile_phone_model: _Optional[str] = ..., mobile_phone_os: _Optional[str] = ..., capture_method: _Optional[str] = ..., request_ip_address: _Optional[str] = ..., content: _Optional[_Union[AttemptContent, _Mapping]] = ...) -> None: ...

class GetApplicantRequest(_message.Message):
    __slots__ = ("applicant_id",)
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    def __init__(self, applicant_id: _Optional[str] = ...) -> None: ...

class GetApplicantResponse(_message.Message):
    __slots__ = ("applicant",)
    APPLICANT_FIELD_NUMBER: _ClassVar[int]
    applicant: Applicant
    def __init__(self, applicant: _Optional[_Union[Applicant, _Mapping]] = ...) -> None: ...

class UpdateApplicantRequest(_message.Message):
    __slots__ = ("applicant_id", "first_name", "last_name", "phone", "email", "reference_id", "callback_url", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    first_name: str
    last_name: str
    phone: str
    email: str
    reference_id: str
    callback_url: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, applicant_id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., reference_id: _Optional[str] = ..., callback_url: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class UpdateApplicantResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteApplicantRequest(_message.Message):
    __slots__ = ("applicant_id",)
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    def __init__(self, applicant_id: _Optional[str] = ...) -> None: ...

class DeleteApplicantResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckApplicantCompletedRequest(_message.Message):
    __slots__ = ("applicant_id",)
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    def __init__(self, applicant_id: _Optional[str] = ...) -> None: ...

class CheckApplicantCompletedResponse(_message.Message):
    __slots__ = ("completed",)
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    completed: bool
    def __init__(self, completed: _Optional[bool] = ...) -> None: ...

class CompleteApplicantRequest(_message.Message):
    __slots__ = ("applicant_id",)
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    def __init__(self, applicant_id: _Optional[str] = ...) -> None: ...

class CompleteApplicantResponse(_message.Message):
    __slots__ = ("callback_url",)
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    callback_url: str
    def __init__(self, callback_url: _Optional[str] = ...) -> None: ...

class ReNotifyApplicantRequest(_message.Message):
    __slots__ = ("applicant_id",)
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    def __init__(self, applicant_id: _Optional[str] = ...) -> None: ...

class ReNotifyApplicantResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OpenApplicantRequest(_message.Message):
    __slots__ = ("applicant_id",)
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    def __init__(self, applicant_id: _Optional[str] = ...) -> None: ...

class OpenApplicantResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateApplicantMainPhotoRequest(_message.Message):
    __slots__ = ("applicant_id", "face_image_base64")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_IMAGE_BASE64_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    face_image_base64: bytes
    def __init__(self, applicant_id: _Optional[str] = ..., face_image_base64: _Optional[bytes] = ...) -> None: ...

class UpdateApplicantMainPhotoResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListApplicantAttemptsRequest(_message.Message):
    __slots__ = ("applicant_id",)
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    def __init__(self, applicant_id: _Optional[str] = ...) -> None: ...

class ListApplicantAttemptsResponse(_message.Message):
    __slots__ = ("attempts",)
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[Attempt]
    def __init__(self, attempts: _Optional[_Iterable[_Union[Attempt, _Mapping]]] = ...) -> None: ...

class GetApplicantAttemptRequest(_message.Message):
    __slots__ = ("applicant_id", "attempt_id")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    attempt_id: int
    def __init__(self, applicant_id: _Optional[str] = ..., attempt_id: _Optional[int] = ...) -> None: ...

class GetApplicantAttemptResponse(_message.Message):
    __slots__ = ("attempt",)
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    attempt: AttemptDetails
    def __init__(self, attempt: _Optional[_Union[AttemptDetails, _Mapping]] = ...) -> None: ...

class GetAttemptImagesRequest(_message.Message):
    __slots__ = ("applicant_id", "attempt_id")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    attempt_id: int
    def __init__(self, applicant_id: _Optional[str] = ..., attempt_id: _Optional[int] = ...) -> None: ...

class GetAttemptImagesResponse(_message.Message):
    __slots__ = ("images",)
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    images: AttemptContent
    def __init__(self, images: _Optional[_Union[AttemptContent, _Mapping]] = ...) -> None: ...

class DownloadAttemptVideoRequest(_message.Message):
    __slots__ = ("applicant_id", "attempt_id")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    attempt_id: int
    def __init__(self, applicant_id: _Optional[str] = ..., attempt_id: _Optional[int] = ...) -> None: ...

class DownloadAttemptVideoResponse(_message.Message):
    __slots__ = ("chunk", "content_type", "content_length")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    content_type: str
    content_length: int
    def __init__(self, chunk: _Optional[bytes] = ..., content_type: _Optional[str] = ..., content_length: _Optional[int] = ...) -> None: ...

class DownloadLivenessActionVideoRequest(_message.Message):
    __slots__ = ("applicant_id", "attempt_id")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    attempt_id: int
    def __init__(self, applicant_id: _Optional[str] = ..., attempt_id: _Optional[int] = ...) -> None: ...

class DownloadLivenessActionVideoResponse(_message.Message):
    __slots__ = ("chunk", "content_type", "content_length")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    content_type: str
    content_length: int
    def __init__(self, chunk: _Optional[bytes] = ..., content_type: _Optional[str] = ..., content_length: _Optional[int] = ...) -> None: ...
