//! Pagination: every list takes `?limit=&after=` and answers with the items
//! and the cursor of the next page, if there is one.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::{Kind, Problem};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<usize, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Problem::field(
                Kind::Validation,
                "limit",
                format!("must be 1 to {MAX_LIMIT}"),
            )),
        }
    }

    /// `after` as a numeric id (the cursor of lists ordered by id).
    pub fn after_id(&self) -> Result<Option<i64>, Problem> {
        self.after
            .as_deref()
            .map(|a| {
                a.parse::<i64>().map_err(|_| {
                    Problem::field(Kind::Validation, "after", "not a cursor this list gave")
                })
            })
            .transpose()
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page of `items` fetched with one extra item to know if more follow.
    pub fn of(mut items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Page<T> {
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(cursor) } else { None };
        Page { items, next }
    }
}
