//! AbleID's status codes, types and messages (seed 000, `upstreams.md`): the ones the
//! simulation produces. Messages come in the session's language; they approximate the
//! real service's wording.

use super::Lang;

/// The `statusCode` and `type` of a success.
pub(super) const SUCCESS_CODE: i64 = 200;
pub(super) const SUCCESS_TYPE: &str = "SUCCESS";

/// The `message` of a success.
pub(super) fn success_message(lang: Lang) -> &'static str {
    lang.pick(["Успешно", "Success", "Муваффақиятли", "Muvaffaqiyatli"])
}

/// An AbleID failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    SessionExpired,
    InvalidUrl,
    IncorrectPinfl,
    IncorrectDocument,
    IncorrectPinflDate,
    ProjectNotFound,
    NotValid,
    PassportExpired,
    RegistrationNotFound,
    FailedVerification,
    TransactionNotFound,
    IncorrectDataFormat,
}

impl Failure {
    /// The `statusCode`.
    pub(super) fn code(self) -> i64 {
        match self {
            Failure::SessionExpired => 10101,
            Failure::InvalidUrl => 10102,
            Failure::IncorrectPinfl => 10103,
            Failure::IncorrectDocument => 10104,
            Failure::IncorrectPinflDate => 10105,
            Failure::ProjectNotFound => 10202,
            Failure::NotValid => 10203,
            Failure::PassportExpired => 10204,
            Failure::RegistrationNotFound => 10205,
            Failure::FailedVerification => 10301,
            Failure::TransactionNotFound => 10302,
            Failure::IncorrectDataFormat => 20202,
        }
    }

    /// The `type`.
    pub(super) fn kind(self) -> &'static str {
        match self {
            Failure::SessionExpired => "FACE_SESSION_EXPIRED",
            Failure::InvalidUrl => "FACE_INVALID_URL",
            Failure::IncorrectPinfl => "FACE_INCORRECT_PINFL",
            Failure::IncorrectDocument => "FACE_INCORRECT_DOCUMENT",
            Failure::IncorrectPinflDate => "FACE_INCORRECT_PINFL_DATE",
            Failure::ProjectNotFound => "FACE_PROJECT_NOT_FOUND",
            Failure::NotValid => "FACE_NOT_VALID",
            Failure::PassportExpired => "FACE_PASSPORT_EXPIRED",
            Failure::RegistrationNotFound => "FACE_REGISTRATION_NOT_FOUND",
            Failure::FailedVerification => "FACE_TRANSACTION_FAILED_VERIFICATION",
            Failure::TransactionNotFound => "FACE_TRANSACTION_NOT_FOUND",
            Failure::IncorrectDataFormat => "INCORRECT_DATA_FORMAT",
        }
    }

    /// The failure a session page's reject form names, by `type` or code; `None` for
    /// anything a person cannot end a check with. An empty choice is `FACE_NOT_VALID`.
    pub(super) fn rejection(chosen: &str) -> Option<Self> {
        match chosen.trim() {
            "" | "FACE_NOT_VALID" | "10203" => Some(Failure::NotValid),
            "FACE_PASSPORT_EXPIRED" | "10204" => Some(Failure::PassportExpired),
            _ => None,
        }
    }

    /// The `message`, in `lang`.
    pub(super) fn message(self, lang: Lang) -> &'static str {
        lang.pick(match self {
            Failure::SessionExpired => {
                ["Сессия истекла", "Session expired", "Сессия муддати тугади", "Sessiya muddati tugadi"]
            }
            Failure::InvalidUrl => ["Некорректный URL", "Invalid URL", "Нотўғри URL", "Noto'g'ri URL"],
            Failure::IncorrectPinfl => {
                ["Некорректный ПИНФЛ", "Incorrect PINFL", "ЖШШИР нотўғри", "JShShIR noto'g'ri"]
            }
            Failure::IncorrectDocument => {
                ["Некорректный документ", "Incorrect document", "Ҳужжат нотўғри", "Hujjat noto'g'ri"]
            }
            Failure::IncorrectPinflDate => [
                "Дата в ПИНФЛ не совпадает с датой рождения",
                "The PINFL date does not match the birth date",
                "ЖШШИРдаги сана туғилган санага мос эмас",
                "JShShIRdagi sana tug'ilgan sanaga mos emas",
            ],
            Failure::ProjectNotFound => {
                ["Проект не найден", "Project not found", "Лойиҳа топилмади", "Loyiha topilmadi"]
            }
            Failure::NotValid => [
                "Лицо не прошло проверку",
                "Face verification failed",
                "Юз текширувдан ўтмади",
                "Yuz tekshiruvdan o'tmadi",
            ],
            Failure::PassportExpired => [
                "Срок действия паспорта истёк",
                "The passport has expired",
                "Паспорт муддати тугаган",
                "Pasport muddati tugagan",
            ],
            Failure::RegistrationNotFound => [
                "Прописка не найдена",
                "Registration not found",
                "Рўйхатга олиш маълумоти топилмади",
                "Ro'yxatga olish ma'lumoti topilmadi",
            ],
            Failure::FailedVerification => [
                "Транзакция не прошла верификацию",
                "The transaction did not pass verification",
                "Транзакция текширувдан ўтмади",
                "Tranzaksiya tekshiruvdan o'tmadi",
            ],
            Failure::TransactionNotFound => [
                "Транзакция не найдена",
                "Transaction not found",
                "Транзакция топилмади",
                "Tranzaksiya topilmadi",
            ],
            Failure::IncorrectDataFormat => [
                "Неверный формат данных",
                "Incorrect data format",
                "Маълумотлар формати нотўғри",
                "Ma'lumotlar formati noto'g'ri",
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_types_are_the_documented_pairs() {
        // upstreams.md, "Error body": the pairs as AbleID documents them.
        let documented = [
            (10101, "FACE_SESSION_EXPIRED"),
            (10102, "FACE_INVALID_URL"),
            (10103, "FACE_INCORRECT_PINFL"),
            (10104, "FACE_INCORRECT_DOCUMENT"),
            (10105, "FACE_INCORRECT_PINFL_DATE"),
            (10202, "FACE_PROJECT_NOT_FOUND"),
            (10203, "FACE_NOT_VALID"),
            (10204, "FACE_PASSPORT_EXPIRED"),
            (10205, "FACE_REGISTRATION_NOT_FOUND"),
            (10301, "FACE_TRANSACTION_FAILED_VERIFICATION"),
            (10302, "FACE_TRANSACTION_NOT_FOUND"),
            (20202, "INCORRECT_DATA_FORMAT"),
        ];
        let all = [
            Failure::SessionExpired,
            Failure::InvalidUrl,
            Failure::IncorrectPinfl,
            Failure::IncorrectDocument,
            Failure::IncorrectPinflDate,
            Failure::ProjectNotFound,
            Failure::NotValid,
            Failure::PassportExpired,
            Failure::RegistrationNotFound,
            Failure::FailedVerification,
            Failure::TransactionNotFound,
            Failure::IncorrectDataFormat,
        ];
        let pairs: Vec<(i64, &str)> = all.iter().map(|f| (f.code(), f.kind())).collect();
        assert_eq!(pairs, documented);
        for failure in all {
            for lang in [Lang::Ru, Lang::En, Lang::Uz, Lang::Oz] {
                assert!(!failure.message(lang).is_empty());
            }
        }
    }

    #[test]
    fn a_person_rejects_with_the_two_face_failures_only() {
        assert_eq!(Failure::rejection(""), Some(Failure::NotValid));
        assert_eq!(Failure::rejection(" 10204 "), Some(Failure::PassportExpired));
        assert_eq!(Failure::rejection("FACE_PASSPORT_EXPIRED"), Some(Failure::PassportExpired));
        assert_eq!(Failure::rejection("FACE_SESSION_EXPIRED"), None);
    }
}
