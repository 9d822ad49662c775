//! Opening by URL: the store behind a URL, built once per store URL and reused, so
//! that two opens of one object share cached blocks.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use object_store::ObjectStore;
use url::Url;

/// The store of `url` and the object's path in it.
///
/// `memory://NAME/path` names a process-wide in-memory store per `NAME`; `file:///path`
/// is the local file system; `s3://`, `gs://`, `az://` (and their aliases), `http://`
/// and `https://` build object_store's clients from the environment (credentials,
/// region, endpoint), each behind its crate feature.
pub(crate) fn resolve(url: &str) -> io::Result<(Arc<dyn ObjectStore>, String)> {
    let invalid =
        |what: String| io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {what}"));
    let parsed = Url::parse(url).map_err(|e| invalid(format!("not a URL: {e}")))?;
    let (base, path) = match parsed.scheme() {
        "memory" => {
            let host = parsed.host_str().unwrap_or_default().to_owned();
            (format!("memory://{host}"), parsed.path().to_owned())
        }
        "file" => ("file://".to_owned(), parsed.path().to_owned()),
        _ => {
            let (_, path) = object_store::ObjectStoreScheme::parse(&parsed)
                .map_err(|e| invalid(e.to_string()))?;
            let base = url
                .strip_suffix(path.as_ref())
                .unwrap_or(url)
                .trim_end_matches('/')
                .to_owned();
            (base, path.to_string())
        }
    };
    let path = path.trim_start_matches('/').to_owned();
    if path.is_empty() {
        return Err(invalid("names no object".to_owned()));
    }
    type Stores = Mutex<HashMap<String, Arc<dyn ObjectStore>>>;
    static STORES: OnceLock<Stores> = OnceLock::new();
    let mut stores = STORES
        .get_or_init(Stores::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(store) = stores.get(&base) {
        return Ok((Arc::clone(store), path));
    }
    let store: Arc<dyn ObjectStore> = match parsed.scheme() {
        "memory" => Arc::new(object_store::memory::InMemory::new()),
        "file" => Arc::new(object_store::local::LocalFileSystem::new()),
        _ => build(&parsed).map_err(|e| match e {
            BuildError::Unsupported(feature) => io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{url}: this build of fileio-object has no `{feature}` feature"),
            ),
            BuildError::Store(e) => invalid(e.to_string()),
        })?,
    };
    stores.insert(base, Arc::clone(&store));
    Ok((store, path))
}

enum BuildError {
    Unsupported(&'static str),
    // Unused when no cloud feature is on.
    #[allow(dead_code)]
    Store(object_store::Error),
}

/// A cloud store for `url`, configured from the environment.
fn build(url: &Url) -> Result<Arc<dyn ObjectStore>, BuildError> {
    use object_store::ObjectStoreScheme as S;
    let (scheme, _) = S::parse(url).map_err(|e| BuildError::Store(e.into()))?;
    match scheme {
        #[cfg(feature = "aws")]
        S::AmazonS3 => object_store::aws::AmazonS3Builder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
            .map_err(BuildError::Store),
        #[cfg(not(feature = "aws"))]
        S::AmazonS3 => Err(BuildError::Unsupported("aws")),
        #[cfg(feature = "gcp")]
        S::GoogleCloudStorage => object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
            .map_err(BuildError::Store),
        #[cfg(not(feature = "gcp"))]
        S::GoogleCloudStorage => Err(BuildError::Unsupported("gcp")),
        #[cfg(feature = "azure")]
        S::MicrosoftAzure => object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_url(url.as_str())
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
            .map_err(BuildError::Store),
        #[cfg(not(feature = "azure"))]
        S::MicrosoftAzure => Err(BuildError::Unsupported("azure")),
        #[cfg(feature = "http")]
        S::Http => {
            let mut base = url.clone();
            base.set_path("");
            object_store::http::HttpBuilder::new()
                .with_url(base.as_str())
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(BuildError::Store)
        }
        #[cfg(not(feature = "http"))]
        S::Http => Err(BuildError::Unsupported("http")),
        _ => Err(BuildError::Unsupported("a store for this scheme")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_invalid_input() {
        for url in ["", "not a url", "memory://", "memory://x/", "nope://x/y"] {
            let e = resolve(url)
                .err()
                .unwrap_or_else(|| panic!("{url} resolved"));
            assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ),
                "{url}: {e}"
            );
            assert!(e.to_string().contains(url), "{e}");
        }
    }

    #[test]
    fn one_store_per_store_url() {
        let (a, pa) = resolve("memory://urltest/a/b").unwrap();
        let (b, pb) = resolve("memory://urltest/c").unwrap();
        let (c, _) = resolve("memory://other/c").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!((pa.as_str(), pb.as_str()), ("a/b", "c"));
    }
}
