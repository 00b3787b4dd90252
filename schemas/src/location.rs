//! Where a data folder lives: a folder on this machine, or a prefix in an
//! object store (Amazon S3 and S3-compatible servers, Google Cloud Storage,
//! Azure Blob Storage), as `--data` names it.
//!
//! Under an object store prefix the layout is the folder's
//! (`<table>/date=YYYY-MM-DD/hour=HH/<file>.parquet`); the write-ahead log
//! stays on the collector's own disk. A store is configured the standard
//! way, from the environment, by the `object_store` crate's builders:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL` for an S3-compatible server (with `AWS_ALLOW_HTTP=true`
//! if it has no TLS), `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`
//! and `AZURE_STORAGE_ACCOUNT_KEY`, and so on.
//!
//! ```
//! use causet_schema::location::Location;
//!
//! let here = Location::parse("./causet-data").unwrap();
//! assert_eq!(here.folder(), Some(std::path::Path::new("./causet-data")));
//! let file = Location::parse("file:///var/lib/causet").unwrap();
//! assert_eq!(file.folder(), Some(std::path::Path::new("/var/lib/causet")));
//! assert!(Location::parse("ftp://host/data").is_err());
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreScheme};
use url::Url;

/// Why `--data` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    /// Not a URL, though it has a scheme.
    #[error("{text}: not a URL ({reason})")]
    Url {
        /// What was given.
        text: String,
        /// The parser's complaint.
        reason: String,
    },
    /// A scheme causet does not store data under.
    #[error(
        "{text}: data can live in a folder or under s3://, gs://, az:// or file://, not {scheme}://"
    )]
    Scheme {
        /// What was given.
        text: String,
        /// Its scheme.
        scheme: String,
    },
    /// A cloud store, in a causet built without its clients.
    #[error(
        "{text}: this causet was built without object storage; build it with `--features cloud` (e.g. `cargo install --path . --locked --features cloud`)"
    )]
    NotBuilt {
        /// What was given.
        text: String,
    },
    /// The store's client could not be configured (a missing region or
    /// account, say).
    #[error("{text}: {source}")]
    Store {
        /// What was given.
        text: String,
        /// The client's complaint.
        source: object_store::Error,
    },
}

/// A data folder: on this machine, or under a prefix of an object store.
#[derive(Clone)]
pub enum Location {
    /// A folder on this machine.
    Folder(PathBuf),
    /// A prefix in an object store.
    Remote(Remote),
}

impl Location {
    /// Reads `--data`: a path, a `file://` URL, or an `s3://`, `gs://` or
    /// `az://` URL (and the other spellings `object_store` knows for them,
    /// such as `s3a://` and `abfss://`).
    pub fn parse(text: &str) -> Result<Location, LocationError> {
        if !text.contains("://") {
            return Ok(Location::Folder(PathBuf::from(text)));
        }
        let url = Url::parse(text).map_err(|e| LocationError::Url {
            text: text.to_owned(),
            reason: e.to_string(),
        })?;
        let scheme_error = || LocationError::Scheme {
            text: text.to_owned(),
            scheme: url.scheme().to_owned(),
        };
        let (scheme, prefix) = ObjectStoreScheme::parse(&url).map_err(|_| scheme_error())?;
        let store_error = |source| LocationError::Store {
            text: text.to_owned(),
            source,
        };
        let store: Arc<dyn ObjectStore> = match scheme {
            ObjectStoreScheme::Local => {
                let path = url.to_file_path().map_err(|()| LocationError::Url {
                    text: text.to_owned(),
                    reason: "not a local path".into(),
                })?;
                return Ok(Location::Folder(path));
            }
            ObjectStoreScheme::AmazonS3
            | ObjectStoreScheme::GoogleCloudStorage
            | ObjectStoreScheme::MicrosoftAzure => cloud_store(scheme, text)?,
            _ => return Err(scheme_error()),
        };
        let prefix = ObjectPath::parse(prefix).map_err(|e| store_error(e.into()))?;
        Ok(Location::Remote(Remote { url, store, prefix }))
    }

    /// The folder, when the data is on this machine.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            Location::Folder(path) => Some(path),
            Location::Remote(_) => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Folder(path) => write!(f, "{}", path.display()),
            Location::Remote(remote) => write!(f, "{remote}"),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location::Folder(path)
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Self {
        Location::Folder(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Self {
        Location::Folder(path.clone())
    }
}

/// A data folder under a prefix of an object store.
#[derive(Clone)]
pub struct Remote {
    url: Url,
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
}

impl Remote {
    /// A data folder under `prefix` of `store`, which DataFusion is to find
    /// by `url`'s scheme and host (a store built by hand, such as an
    /// in-memory one for tests).
    pub fn new(url: Url, store: Arc<dyn ObjectStore>, prefix: ObjectPath) -> Remote {
        Remote { url, store, prefix }
    }

    /// The store's client.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The prefix the data folder is under, inside the store.
    pub fn prefix(&self) -> &ObjectPath {
        &self.prefix
    }

    /// `scheme://bucket`: what DataFusion finds the store by.
    pub fn store_url(&self) -> Url {
        let mut url = self.url.clone();
        url.set_path("");
        url.set_query(None);
        url.set_fragment(None);
        url
    }

    /// The URL of `table`'s folder, ending in `/`.
    pub fn table_url(&self, table: &str) -> String {
        format!("{}/", self.url_of(&self.prefix.clone().join(table)))
    }

    /// The key of a file `name` of `table` and `hour` (see
    /// [`partition::relative_dir`](crate::partition::relative_dir)).
    pub fn key(&self, table: &str, hour: i64, name: &str) -> ObjectPath {
        let mut key = self.prefix.clone();
        for part in crate::partition::relative_dir(table, hour) {
            key = key.join(part.as_str());
        }
        key.join(name)
    }
}

impl Remote {
    /// Uploads the local file `file` as `key`: one PUT, or above
    /// [`SINGLE_PUT_BYTES`] a multipart upload in parts of
    /// [`UPLOAD_PART_BYTES`], which the store makes visible only when it
    /// completes. Either way the object appears whole or not at all, and a
    /// repeat replaces it.
    pub async fn put_file(&self, file: &Path, key: &ObjectPath) -> object_store::Result<()> {
        use object_store::ObjectStoreExt as _;
        let bytes = std::fs::read(file).map_err(|source| object_store::Error::Generic {
            store: "local file",
            source: Box::new(source),
        })?;
        if bytes.len() <= SINGLE_PUT_BYTES {
            self.store.put(key, bytes.into()).await?;
        } else {
            let upload = self.store.put_multipart(key).await?;
            let mut parts =
                object_store::WriteMultipart::new_with_chunk_size(upload, UPLOAD_PART_BYTES);
            parts.write(&bytes);
            parts.finish().await?;
        }
        Ok(())
    }

    /// `key` as a URL, for messages and for DataFusion to read it by.
    pub fn url_of(&self, key: &ObjectPath) -> String {
        format!("{}/{key}", self.store_url().as_str().trim_end_matches('/'))
    }
}

/// Files up to this size are uploaded with one PUT; larger ones in parts.
pub const SINGLE_PUT_BYTES: usize = 32 << 20;
/// The part size of a multipart upload.
pub const UPLOAD_PART_BYTES: usize = 16 << 20;

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url)
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Remote({self})")
    }
}

/// The client of a cloud store, configured from the environment.
#[cfg(feature = "cloud")]
fn cloud_store(
    scheme: ObjectStoreScheme,
    text: &str,
) -> Result<Arc<dyn ObjectStore>, LocationError> {
    let built: object_store::Result<Arc<dyn ObjectStore>> = match scheme {
        ObjectStoreScheme::AmazonS3 => object_store::aws::AmazonS3Builder::from_env()
            .with_url(text)
            .build()
            .map(|s| Arc::new(s) as _),
        ObjectStoreScheme::GoogleCloudStorage => {
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(text)
                .build()
                .map(|s| Arc::new(s) as _)
        }
        _ => object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_url(text)
            .build()
            .map(|s| Arc::new(s) as _),
    };
    built.map_err(|source| LocationError::Store {
        text: text.to_owned(),
        source,
    })
}

/// Without the `cloud` feature, a cloud URL says how to get one.
#[cfg(not(feature = "cloud"))]
fn cloud_store(_: ObjectStoreScheme, text: &str) -> Result<Arc<dyn ObjectStore>, LocationError> {
    Err(LocationError::NotBuilt {
        text: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "cloud")]
    #[test]
    fn an_s3_url_names_its_bucket_and_prefix() {
        // Credentials are not needed to configure a client, only to use it.
        let Location::Remote(remote) =
            Location::parse("s3://traces/prod/causet").expect("an S3 location")
        else {
            panic!("not remote");
        };
        assert_eq!(remote.store_url().as_str(), "s3://traces");
        assert_eq!(remote.prefix().as_ref(), "prod/causet");
        assert_eq!(remote.table_url("spans"), "s3://traces/prod/causet/spans/");
        let hour = crate::partition::hour_of(1_795_600_800_000_000_000);
        assert_eq!(
            remote.key("spans", hour, "part-1.parquet").as_ref(),
            "prod/causet/spans/date=2026-11-25/hour=10/part-1.parquet"
        );
    }

    #[cfg(feature = "cloud")]
    #[test]
    fn a_bucket_without_prefix_is_its_root() {
        let Location::Remote(remote) = Location::parse("s3://traces").expect("an S3 location")
        else {
            panic!("not remote");
        };
        assert_eq!(remote.table_url("span_links"), "s3://traces/span_links/");
    }

    #[test]
    fn unknown_schemes_are_refused_by_name() {
        let error = Location::parse("ftp://host/data").expect_err("refused");
        assert!(error.to_string().contains("not ftp://"), "{error}");
        assert!(Location::parse("s3://").is_err());
    }

    #[cfg(not(feature = "cloud"))]
    #[test]
    fn without_the_cloud_feature_a_store_says_how_to_get_it() {
        let error = Location::parse("s3://traces/prod").expect_err("refused");
        assert!(error.to_string().contains("--features cloud"), "{error}");
    }
}
