//! The languages loa speaks to people: Vietnamese first (the default everywhere), English
//! second. Fixed sets of values that people read (airlog statuses, sources, reasons) render
//! themselves through [`Render`]; what is stored stays language-free.

/// A language of pages, reports and messages.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Vietnamese (the default).
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Both languages, Vietnamese first.
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// The language's code (`vi`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// A value people read, in a language.
pub trait Render {
    /// The value in `lang`, as a page or report shows it.
    fn render(&self, lang: Lang) -> String;
}

#[cfg(test)]
#[path = "lang_tests.rs"]
pub(crate) mod tests;
