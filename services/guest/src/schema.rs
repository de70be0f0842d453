//! Request validation against the JSON Schemas in `schemas/`.

use jiandu_domain::FieldError;
use jsonschema::error::ValidationErrorKind;

/// The compiled schema of a file in `schemas/`, built once per instance:
/// `schema!("tour.json").parse(input)?`.
#[macro_export]
macro_rules! schema {
    ($file:literal) => {{
        static SCHEMA: ::std::sync::OnceLock<$crate::schema::Schema> = ::std::sync::OnceLock::new();
        SCHEMA.get_or_init(|| {
            $crate::schema::Schema::compile(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../schemas/",
                $file
            )))
        })
    }};
}

/// A compiled schema. Build it once per instance (e.g. in a `OnceLock`):
/// compiling costs far more than validating.
pub struct Schema(jsonschema::Validator);

impl Schema {
    /// Compiles a JSON Schema 2020-12 document.
    ///
    /// # Panics
    /// If the document is not a valid schema; the schemas are part of the
    /// build and are checked by tests.
    pub fn compile(text: &str) -> Self {
        let document: serde_json::Value = serde_json::from_str(text).expect("schema is JSON");
        Self(jsonschema::draft202012::new(&document).expect("schema is valid JSON Schema 2020-12"))
    }

    /// Every problem with `instance`, each with its JSON pointer. Messages do
    /// not repeat the submitted values, which may be personal data.
    pub fn check(&self, instance: &serde_json::Value) -> Result<(), Vec<FieldError>> {
        let errors: Vec<FieldError> = self
            .0
            .iter_errors(instance)
            .map(|e| {
                let base = e.instance_path().as_str().to_owned();
                match e.kind() {
                    ValidationErrorKind::Required { property } => FieldError::new(
                        format!("{base}/{}", property.as_str().unwrap_or_default()),
                        "is required",
                    ),
                    ValidationErrorKind::AdditionalProperties { unexpected } => FieldError::new(
                        format!(
                            "{base}/{}",
                            unexpected.first().map(String::as_str).unwrap_or_default()
                        ),
                        format!(
                            "is not an allowed field (unexpected: {})",
                            unexpected.join(", ")
                        ),
                    ),
                    _ => FieldError::new(base, e.masked().to_string()),
                }
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks `instance` and converts it: 400 naming every problem, else the value.
    pub fn parse<T: serde::de::DeserializeOwned>(
        &self,
        instance: serde_json::Value,
    ) -> Result<T, crate::api::ApiError> {
        use spin_sdk::http::StatusCode;
        self.check(&instance)
            .map_err(|errors| crate::api::ApiError::fields(StatusCode::BAD_REQUEST, errors))?;
        serde_json::from_value(instance)
            .map_err(|e| crate::api::ApiError::new(StatusCode::BAD_REQUEST, "", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn report_schema_reports_every_error_with_its_pointer() {
        let schema = Schema::compile(include_str!("../../../schemas/report.json"));
        let errors = schema
            .check(&json!({
                "category": "bribery",
                "division_code": "12",
                "subject": {},
                "content": "short",
                "reporter": { "name": "李四", "phone": "call me", "extra": 1 }
            }))
            .unwrap_err();
        let mut pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        pointers.sort_unstable();
        assert_eq!(
            pointers,
            [
                "/category",
                "/content",
                "/division_code",
                "/reporter/extra",
                "/reporter/phone",
                "/subject/name"
            ]
        );
        assert!(
            errors.iter().all(|e| !e.message.contains("call me")),
            "{errors:?}"
        );
    }
}
