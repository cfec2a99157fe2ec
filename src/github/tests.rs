//! The GithubTier actor against the fake origin: revalidation with the ETag of the token that
//! got it, and git's blob shas.

use ractor::Actor;

use super::*;
use crate::github::read::git_blob_sha;
use crate::key::Key;
use crate::testkit::fixtures;
use crate::testkit::origin::FakeOrigin;
use crate::tier::Validator;

#[test]
fn token_tags_are_stable_across_builds() {
    // The first 64 bits of SHA-1("ghp_example"), as stored in L2's etag column.
    assert_eq!(
        crate::github::read::token_tag(Some("ghp_example")),
        "t07f4968620fa309a"
    );
    assert_eq!(crate::github::read::token_tag(None), "anonymous");
}

#[test]
fn git_blob_shas_are_gits() {
    // `git hash-object` of an empty file and of "hello\n".
    assert_eq!(
        git_blob_sha(b""),
        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    );
    assert_eq!(
        git_blob_sha(b"hello\n"),
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
}

async fn tier(origin: &FakeOrigin, token: &str) -> ActorRef<ToGithub> {
    let config = GithubConfig {
        api_url: origin.api_url(),
        raw_url: origin.raw_url(),
        token: token.into(),
        requests_per_second: 10_000,
        ..GithubConfig::default()
    };
    let args = GithubArgs {
        config,
        ttl: TtlConfig::default(),
    };
    Actor::spawn(None, GithubTier, args).await.unwrap().0
}

async fn fetch(actor: &ActorRef<ToGithub>, key: &Key, stale: Option<Entry>) -> Entry {
    let answer = actor
        .call(
            |reply| ToGithub::Fetch(vec![(key.clone(), stale)], Urgency::Waiting, reply),
            Some(Duration::from_secs(10)),
        )
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match answer.into_iter().next() {
        Some(Lookup::Hit(entry)) => entry,
        other => panic!("{other:?}"),
    }
}

/// A stale copy whose sha no longer matches the tree (say the tree moved on and back) is
/// revalidated with its ETag: a 304 confirms it without a body. The ETag is only sent
/// with the token that got it.
#[tokio::test(flavor = "multi_thread")]
async fn a_changed_sha_is_revalidated_with_the_etag_of_the_same_token() {
    let dir = fixtures::dir();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let button = Key::parse("component:react:button").unwrap();
    let raw = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/button.tsx";
    let actor = tier(&origin, "token-a").await;
    let fresh = fetch(&actor, &button, None).await;
    let etag = fresh
        .validator
        .etag
        .clone()
        .expect("the raw answer had an ETag");
    assert!(etag.starts_with('t'), "tagged with the token: {etag}");

    let stale = |etag: Option<Arc<str>>| {
        Entry::new(Bytes::from_static(b"the copy we hold"), 0, Some(1)).with_validator(Validator {
            sha: Some("an older sha".into()),
            etag,
        })
    };
    let confirmed = fetch(&actor, &button, Some(stale(Some(etag.clone())))).await;
    assert_eq!(
        &confirmed.value[..],
        b"the copy we hold",
        "a 304 keeps our copy"
    );
    assert_eq!(
        confirmed.validator.sha, fresh.validator.sha,
        "and learns the new sha"
    );
    assert_eq!(origin.count(raw), 2);

    // Another token's daemon does not send it, and downloads the file.
    let other = tier(&origin, "token-b").await;
    let downloaded = fetch(&other, &button, Some(stale(Some(etag)))).await;
    assert_eq!(downloaded.value, fresh.value);
    assert_eq!(origin.count(raw), 3);

    // The same sha needs no request at all.
    let same = stale(None).with_validator(fresh.validator.clone());
    let kept = fetch(&actor, &button, Some(same)).await;
    assert_eq!(&kept.value[..], b"the copy we hold");
    assert_eq!(origin.count(raw), 3);
    let stats = actor
        .call(ToGithub::Stats, Some(Duration::from_secs(5)))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((stats.hits, stats.revalidated), (1, 2));
}
