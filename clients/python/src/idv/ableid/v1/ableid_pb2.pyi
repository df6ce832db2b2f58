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

class PassportType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PASSPORT_TYPE_UNSPECIFIED: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_IP_DOCUMENTS: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_CITIZ_DOCUMENTS: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_LBG_DOCUMENTS: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_CITIZEN: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_FOREIGN: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_LBG: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_NEWBORN: _ClassVar[PassportType]
    PASSPORT_TYPE_IDMS_RECV_MJ_BIRTH_CERTS: _ClassVar[PassportType]
PASSPORT_TYPE_UNSPECIFIED: PassportType
PASSPORT_TYPE_IDMS_RECV_IP_DOCUMENTS: PassportType
PASSPORT_TYPE_IDMS_RECV_CITIZ_DOCUMENTS: PassportType
PASSPORT_TYPE_IDMS_RECV_LBG_DOCUMENTS: PassportType
PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_CITIZEN: PassportType
PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_FOREIGN: PassportType
PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_LBG: PassportType
PASSPORT_TYPE_IDMS_RECV_MVD_IDCARD_NEWBORN: PassportType
PASSPORT_TYPE_IDMS_RECV_MJ_BIRTH_CERTS: PassportType

class StartResidentCheckRequest(_message.Message):
    __slots__ = ("transaction_id", "pinfl", "birth_date", "lang", "hooks")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    PINFL_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    LANG_FIELD_NUMBER: _ClassVar[int]
    HOOKS_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    pinfl: str
    birth_date: str
    lang: str
    hooks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, transaction_id: _Optional[str] = ..., pinfl: _Optional[str] = ..., birth_date: _Optional[str] = ..., lang: _Optional[str] = ..., hooks: _Optional[_Iterable[str]] = ...) -> None: ...

class StartResidentCheckResponse(_message.Message):
    __slots__ = ("attempt_id", "full_url", "lang", "message", "expire_time")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    FULL_URL_FIELD_NUMBER: _ClassVar[int]
    LANG_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    full_url: str
    lang: str
    message: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, attempt_id: _Optional[str] = ..., full_url: _Optional[str] = ..., lang: _Optional[str] = ..., message: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StartForeignCheckRequest(_message.Message):
    __slots__ = ("transaction_id", "document", "lang", "hooks")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    LANG_FIELD_NUMBER: _ClassVar[int]
    HOOKS_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    document: str
    lang: str
    hooks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, transaction_id: _Optional[str] = ..., document: _Optional[str] = ..., lang: _Optional[str] = ..., hooks: _Optional[_Iterable[str]] = ...) -> None: ...

class StartForeignCheckResponse(_message.Message):
    __slots__ = ("attempt_id", "full_url", "lang", "message", "expire_time")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    FULL_URL_FIELD_NUMBER: _ClassVar[int]
    LANG_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    full_url: str
    lang: str
    message: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, attempt_id: _Optional[str] = ..., full_url: _Optional[str] = ..., lang: _Optional[str] = ..., message: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestPassportRequest(_message.Message):
    __slots__ = ("attempt_id", "pinfl", "birth_date")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    PINFL_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    pinfl: str
    birth_date: str
    def __init__(self, attempt_id: _Optional[str] = ..., pinfl: _Optional[str] = ..., birth_date: _Optional[str] = ...) -> None: ...

class RequestPassportResponse(_message.Message):
    __slots__ = ("status_code", "type", "message")
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    type: str
    message: str
    def __init__(self, status_code: _Optional[int] = ..., type: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RequestPhotoRequest(_message.Message):
    __slots__ = ("attempt_id",)
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    def __init__(self, attempt_id: _Optional[str] = ...) -> None: ...

class RequestPhotoResponse(_message.Message):
    __slots__ = ("status_code", "type", "message")
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    type: str
    message: str
    def __init__(self, status_code: _Optional[int] = ..., type: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RequestRegistrationRequest(_message.Message):
    __slots__ = ("attempt_id", "pinfl")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    PINFL_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    pinfl: str
    def __init__(self, attempt_id: _Optional[str] = ..., pinfl: _Optional[str] = ...) -> None: ...

class RequestRegistrationResponse(_message.Message):
    __slots__ = ("status_code", "type", "message")
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    type: str
    message: str
    def __init__(self, status_code: _Optional[int] = ..., type: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RequestPersonRequest(_message.Message):
    __slots__ = ("attempt_id", "pinfl", "birth_date")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    PINFL_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    pinfl: str
    birth_date: str
    def __init__(self, attempt_id: _Optional[str] = ..., pinfl: _Optional[str] = ..., birth_date: _Optional[str] = ...) -> None: ...

class RequestPersonResponse(_message.Message):
    __slots__ = ("status_code", "type", "message")
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status_code: int
    type: str
    message: str
    def __init__(self, status_code: _Optional[int] = ..., type: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Passport(_message.Message):
    __slots__ = ("attempt_id", "surname", "name", "last_name", "document", "sex", "passport_give_place", "passport_give_place_id", "passport_date_begin", "passport_date_end", "passport_type", "raw_passport_type")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    SURNAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_GIVE_PLACE_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_GIVE_PLACE_ID_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_DATE_BEGIN_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_DATE_END_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RAW_PASSPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    surname: str
    name: str
    last_name: str
    document: str
    sex: int
    passport_give_place: str
    passport_give_place_id: int
    passport_date_begin: str
    passport_date_end: str
    passport_type: PassportType
    raw_passport_type: str
    def __init__(self, attempt_id: _Optional[str] = ..., surname: _Optional[str] = ..., name: _Optional[str] = ..., last_name: _Optional[str] = ..., document: _Optional[str] = ..., sex: _Optional[int] = ..., passport_give_place: _Optional[str] = ..., passport_give_place_id: _Optional[int] = ..., passport_date_begin: _Optional[str] = ..., passport_date_end: _Optional[str] = ..., passport_type: _Optional[_Union[PassportType, str]] = ..., raw_passport_type: _Optional[str] = ...) -> None: ...

class Photo(_message.Message):
    __slots__ = ("crc", "photo")
    CRC_FIELD_NUMBER: _ClassVar[int]
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    crc: str
    photo: bytes
    def __init__(self, crc: _Optional[str] = ..., photo: _Optional[bytes] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("address", "cadastre", "country", "country_id", "country_cbu_id", "region", "region_id", "region_cbu_id", "district", "district_id", "district_cbu_id", "maxala", "maxala_id", "maxala_cbu_id", "street", "street_id", "street_cbu_id", "registration_date")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CADASTRE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    REGION_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_ID_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    MAXALA_FIELD_NUMBER: _ClassVar[int]
    MAXALA_ID_FIELD_NUMBER: _ClassVar[int]
    MAXALA_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    STREET_FIELD_NUMBER: _ClassVar[int]
    STREET_ID_FIELD_NUMBER: _ClassVar[int]
    STREET_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_DATE_FIELD_NUMBER: _ClassVar[int]
    address: str
    cadastre: str
    country: str
    country_id: int
    country_cbu_id: int
    region: str
    region_id: int
    region_cbu_id: int
    district: str
    district_id: int
    district_cbu_id: int
    maxala: str
    maxala_id: int
    maxala_cbu_id: int
    street: str
    street_id: int
    street_cbu_id: int
    registration_date: str
    def __init__(self, address: _Optional[str] = ..., cadastre: _Optional[str] = ..., country: _Optional[str] = ..., country_id: _Optional[int] = ..., country_cbu_id: _Optional[int] = ..., region: _Optional[str] = ..., region_id: _Optional[int] = ..., region_cbu_id: _Optional[int] = ..., district: _Optional[str] = ..., district_id: _Optional[int] = ..., district_cbu_id: _Optional[int] = ..., maxala: _Optional[str] = ..., maxala_id: _Optional[int] = ..., maxala_cbu_id: _Optional[int] = ..., street: _Optional[str] = ..., street_id: _Optional[int] = ..., street_cbu_id: _Optional[int] = ..., registration_date: _Optional[str] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("person", "registration")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    person: PersonDetails
    registration: PersonRegistration
    def __init__(self, person: _Optional[_Union[PersonDetails, _Mapping]] = ..., registration: _Optional[_Union[PersonRegistration, _Mapping]] = ...) -> None: ...

class PersonDetails(_message.Message):
    __slots__ = ("attempt_id", "pinfl", "surname", "name", "last_name", "document", "sex", "passport_give_place", "passport_give_place_id", "passport_date_begin", "passport_date_end", "passport_type", "raw_passport_type", "passport_type_title", "passport_type_id", "passport_type_cbu_id", "birth_date", "birth_place", "birth_place_id", "birth_place_cbu_id", "birth_country", "birth_country_id", "birth_country_cbu_id", "live_status", "nationality", "nationality_id", "nationality_cbu_id", "citizenship", "citizenship_id", "citizenship_cbu_id")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    PINFL_FIELD_NUMBER: _ClassVar[int]
    SURNAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_GIVE_PLACE_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_GIVE_PLACE_ID_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_DATE_BEGIN_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_DATE_END_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RAW_PASSPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_TYPE_TITLE_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_TYPE_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    BIRTH_PLACE_FIELD_NUMBER: _ClassVar[int]
    BIRTH_PLACE_ID_FIELD_NUMBER: _ClassVar[int]
    BIRTH_PLACE_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    BIRTH_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    BIRTH_COUNTRY_ID_FIELD_NUMBER: _ClassVar[int]
    BIRTH_COUNTRY_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    LIVE_STATUS_FIELD_NUMBER: _ClassVar[int]
    NATIONALITY_FIELD_NUMBER: _ClassVar[int]
    NATIONALITY_ID_FIELD_NUMBER: _ClassVar[int]
    NATIONALITY_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZENSHIP_FIELD_NUMBER: _ClassVar[int]
    CITIZENSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    CITIZENSHIP_CBU_ID_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    pinfl: str
    surname: str
    name: str
    last_name: str
    document: str
    sex: int
    passport_give_place: str
    passport_give_place_id: int
    passport_date_begin: str
    passport_date_end: str
    passport_type: PassportType
    raw_passport_type: str
    passport_type_title: str
    passport_type_id: int
    passport_type_cbu_id: int
    birth_date: str
    birth_place: str
    birth_place_id: int
    birth_place_cbu_id: int
    birth_country: str
    birth_country_id: int
    birth_country_cbu_id: int
    live_status: bool
    nationality: str
    nationality_id: int
    nationality_cbu_id: int
    citizenship: str
    citizenship_id: int
    citizenship_cbu_id: int
    def __init__(self, attempt_id: _Optional[str] = ..., pinfl: _Optional[str] = ..., surname: _Optional[str] = ..., name: _Optional[str] = ..., last_name: _Optional[str] = ..., document: _Optional[str] = ..., sex: _Optional[int] = ..., passport_give_place: _Optional[str] = ..., passport_give_place_id: _Optional[int] = ..., passport_date_begin: _Optional[str] = ..., passport_date_end: _Optional[str] = ..., passport_type: _Optional[_Union[PassportType, str]] = ..., raw_passport_type: _Optional[str] = ..., passport_type_title: _Optional[str] = ..., passport_type_id: _Optional[int] = ..., passport_type_cbu_id: _Optional[int] = ..., birth_date: _Optional[str] = ..., birth_place: _Optional[str] = ..., birth_place_id: _Optional[int] = ..., birth_place_cbu_id: _Optional[int] = ..., birth_country: _Optional[str] = ..., birth_country_id: _Optional[int] = ..., birth_country_cbu_id: _Optional[int] = ..., live_status: _Optional[bool] = ..., nationality: _Optional[str] = ..., nationality_id: _Optional[int] = ..., nationality_cbu_id: _Optional[int] = ..., citizenship: _Optional[str] = ..., citizenship_id: _Optional[int] = ..., citizenship_cbu_id: _Optional[int] = ...) -> None: ...

class PersonRegistration(_message.Message):
    __slots__ = ("permanent_registration", "temporary_registrations")
    PERMANENT_REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    TEMPORARY_REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    permanent_registration: Address
    temporary_registrations: _containers.RepeatedCompositeFieldContainer[Address]
    def __init__(self, permanent_registration: _Optional[_Union[Address, _Mapping]] = ..., temporary_registrations: _Optional[_Iterable[_Union[Address, _Mapping]]] = ...) -> None: ...
