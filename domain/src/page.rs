//! Pagination.

/// A request for one page: 1-based page number and a bounded page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: u32 = 20;
    pub const MAX_PER_PAGE: u32 = 200;
    /// The largest page number [`parse`](Self::parse) accepts (what a signed 32-bit integer
    /// holds, so every client can represent it).
    pub const MAX_PAGE: u32 = i32::MAX as u32;

    /// Clamps out-of-range values to the nearest sensible one instead of failing: page 0 is
    /// page 1, and a page size over the maximum is the maximum.
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            per_page: per_page
                .unwrap_or(Self::DEFAULT_PER_PAGE)
                .clamp(1, Self::MAX_PER_PAGE),
        }
    }

    /// Like [`new`](Self::new), but refuses out-of-range values instead of clamping them: for
    /// values that come from outside, where a silent change would surprise the caller.
    pub fn parse(page: Option<u32>, per_page: Option<u32>) -> Result<Self, PageRequestError> {
        if page.is_some_and(|p| p == 0 || p > Self::MAX_PAGE) {
            return Err(PageRequestError::Page {
                max: Self::MAX_PAGE,
            });
        }
        if per_page.is_some_and(|n| n == 0 || n > Self::MAX_PER_PAGE) {
            return Err(PageRequestError::PerPage {
                max: Self::MAX_PER_PAGE,
            });
        }
        Ok(Self::new(page, per_page))
    }

    pub fn page(&self) -> u32 {
        self.page
    }

    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

/// A page request out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageRequestError {
    #[error("page must be between 1 and {max}")]
    Page { max: u32 },
    #[error("perPage must be between 1 and {max}")]
    PerPage { max: u32 },
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// One page of items and the total across all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.per_page.max(1)))
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_request_clamps() {
        let p = PageRequest::new(Some(0), Some(10_000));
        assert_eq!((p.page(), p.per_page()), (1, PageRequest::MAX_PER_PAGE));
        let p = PageRequest::new(Some(3), Some(25));
        assert_eq!(p.offset(), 50);
        let p = PageRequest::new(None, Some(0));
        assert_eq!(p.per_page(), 1);
    }

    #[test]
    fn parse_refuses_what_new_would_clamp() {
        let page_error = Err(PageRequestError::Page {
            max: PageRequest::MAX_PAGE,
        });
        assert_eq!(PageRequest::parse(Some(0), None), page_error);
        assert_eq!(PageRequest::parse(Some(1 << 31), None), page_error);
        assert_eq!(
            PageRequest::parse(None, Some(0)),
            Err(PageRequestError::PerPage { max: 200 })
        );
        assert_eq!(
            PageRequest::parse(None, Some(201)),
            Err(PageRequestError::PerPage { max: 200 })
        );
        let p = PageRequest::parse(Some(2), Some(200)).expect("in range");
        assert_eq!((p.page(), p.per_page()), (2, 200));
        assert_eq!(PageRequest::parse(None, None), Ok(PageRequest::default()));
    }

    #[test]
    fn total_pages_rounds_up() {
        let page: Page<u8> = Page {
            items: vec![],
            page: 1,
            per_page: 20,
            total: 41,
        };
        assert_eq!(page.total_pages(), 3);
        let empty: Page<u8> = Page {
            items: vec![],
            page: 1,
            per_page: 20,
            total: 0,
        };
        assert_eq!(empty.total_pages(), 0);
    }
}
