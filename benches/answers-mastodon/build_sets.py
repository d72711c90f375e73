"""Writes questions.jsonl and nuggets.jsonl (source of truth for the hand-written set)."""
import json

# (question, lang, expected page, nugget groups)
IN_SCOPE = [
    # --- English, user guide ---
    ("how long can my bio be?", "en", "user/profile.md",
     [["500 characters"]]),
    ("how do i get the verified checkmark next to the website link on my profile", "en", "user/profile.md",
     [['rel="me"', "links back"], ["checkmark"]]),
    ("can I approve new followers manually before they're allowed to follow me?", "en", "user/profile.md",
     [["locking", "locked", "lock"], ["manually approve", "approve them"]]),
    ("do long links eat up my character limit", "en", "user/posting.md",
     [["23 characters"]]),
    ("how many pictures can i attach to one toot", "en", "user/posting.md",
     [["up to 4 images", "4 images"]]),
    ("how long can a poll stay open?", "en", "user/posting.md",
     [["7 days"]]),
    ("i posted some stuff publicly a while ago, can i make those old posts private now", "en", "user/posting.md",
     [["past public posts private", "per-post"]]),
    ("are direct messages end to end encrypted", "en", "user/posting.md",
     [["not an encrypted", "encrypted messaging app"]]),
    ("why dont my followers see my replies in their home feed??", "en", "user/posting.md",
     [["follow both you", "follow both"]]),
    ("how do I hide movie spoilers so people have to click to read them", "en", "user/posting.md",
     [["content warning"], ["collapsed"]]),
    ("im switching to another server, how do i take my followers with me", "en", "user/moving.md",
     [["alias", "aliased", "aliases"], ["follow your new account", "unfollow your current account"]]),
    ("is there a way to stop seeing posts that mention a certain word", "en", "user/moderating.md",
     [["filters", "filter"], ["keyword", "phrase"]]),
    ("if I mute someone do they get told about it?", "en", "user/moderating.md",
     [["no way of knowing"]]),
    ("how do i report a harassing account to the moderators", "en", "user/moderating.md",
     [["dropdown"], ["add a note", "note"]]),
    ("can i show the hashtags i use most on my profile page", "en", "user/discoverability.md",
     [["featured hashtags", "feature certain hashtags"]]),
    ("is there an rss feed for someones account", "en", "user/network.md",
     [[".rss"]]),
    ("how can I search only my own posts from before a certain date", "en", "user/network.md",
     [["from:me", "from:"], ["before:"]]),
    ("i want a notification every time my favourite artist posts", "en", "user/network.md",
     [["bell icon", "bell"]]),
    ("where do i turn on 2fa", "en", "user/contacts.md",
     [["account settings"], ["two-factor authentication"]]),
    ("my friend couldnt find me when i told them my name is @alice, what should i give them instead", "en", "user/signup.md",
     [["@alice@example.com", "example.com/@alice"], ["include the domain", "domain"]]),
    ("does mastodon have ads? how do servers pay for themselves", "en", "_index.md",
     [["monetization"], ["donate", "crowdfunding", "crowdfunded"]]),
    # --- English, admin guide ---
    ("how do I automatically clean up cached remote media on my instance", "en", "admin/setup.md",
     [["media remove"], ["crontab", "@weekly"]]),
    ("how to turn on captcha for new signups", "en", "admin/optional/captcha.md",
     [["hcaptcha_site_key"], ["hcaptcha_secret_key"], ["solve a captcha"]]),
    ("moving my instance to a new vps - how do i copy the postgres database over", "en", "admin/migrating.md",
     [["pg_dump"], ["pg_restore"]]),
    ("if i suspend an account as admin can I still undo it later, how long is the data kept", "en", "admin/moderation.md",
     [["30 days", "30 day"]]),
    ("after upgrading mastodon some pages look broken / unstyled", "en", "admin/troubleshooting.md",
     [["assets:precompile"]]),
    ("how to enable full text search with elasticsearch", "en", "admin/optional/elasticsearch.md",
     [["es_enabled"], ["search deploy"]]),
    ("using cloudflare r2 for media storage and uploads fail because of ACLs", "en", "admin/optional/object-storage.md",
     [["s3_permission"], ["empty string"]]),
    ("can mastodon ping my discord bot when someone files a report", "en", "admin/webhooks.md",
     [["report.created"]]),
    ("how do i let users log in with keycloak / openid connect", "en", "admin/optional/sso.md",
     [["oidc_enabled"], ["oidc_discovery"]]),
    # --- German ---
    ("Wie groß darf mein Profilbild sein?", "de", "user/profile.md",
     [["2mb"], ["400x400"]]),
    ("wie groß darf ein video maximal sein, das ich hochlade", "de", "user/posting.md",
     [["99mb"]]),
    ("Wie lösche ich mein Konto endgültig?", "de", "user/moving.md",
     [["delete your account"], ["irreversible"]]),
    ("was passiert wenn ich jemanden blockiere, kann die person mir dann noch folgen?", "de", "user/moderating.md",
     [["forced to unfollow you", "cannot follow you"]]),
    ("Ich habe Mastodon gerade installiert. Wie mache ich meinen Account zum Admin?", "de", "admin/setup.md",
     [["accounts modify"], ["--role owner"]]),
    # --- French ---
    ("c'est combien de caractères max pour un post ?", "fr", "user/posting.md",
     [["500 characters"]]),
    ("Comment télécharger une archive de tous mes messages ?", "fr", "user/moving.md",
     [["archive"], ["7 days"]]),
    ("est-ce que je peux épingler des messages en haut de mon profil, et combien ?", "fr", "user/discoverability.md",
     [["pin on profile"], ["up to 5"]]),
    ("comment empecher les gens de citer mes posts", "fr", "user/quote-posts.md",
     [["posting defaults", "just me", "disable quoting"]]),
    ("Je gère une instance : qu'est-ce que je dois sauvegarder en priorité ?", "fr", "admin/backups.md",
     [["postgresql"], [".env.production", "application secrets"], ["user-uploaded files", "public/system"]]),
]

OFF_TOPIC = [
    ("whats the weather going to be like in berlin tomorrow", "en"),
    ("how long do i boil an egg for a runny yolk", "en"),
    ("how much is a netflix premium subscription per month", "en"),
    ("can you recommend a laptop for video editing under 1000 dollars", "en"),
    ("how do i fix a dripping kitchen tap", "en"),
    ("what's the best time of year to visit japan", "en"),
    ("who won the champions league final in 2019", "en"),
    ("what is a good substitute for buttermilk in pancakes", "en"),
    ("Wie viel kostet ein Spotify Familien-Abo?", "de"),
    ("quelle est la capitale de l'australie ?", "fr"),
]

ON_TOPIC_UNANSWERABLE = [
    ("does mastodon.social allow nsfw art? what are their server rules", "en"),
    ("how much does masto.host charge per month for a small instance", "en"),
    ("how do I set up Pixelfed so I can share photo albums", "en"),
    ("how do i build a custom feed like on bluesky", "en"),
    ("is there a way to see who viewed my profile", "en"),
    ("how much does the ivory app subscription cost on iphone", "en"),
    ("is there an official helm chart to deploy mastodon on kubernetes", "en"),
    ("how much RAM does a mastodon server need for 10000 active users", "en"),
    ("Soll ich mich bei mastodon.social oder bei fosstodon anmelden? Was passt besser zu mir?", "de"),
    ("je peux récupérer un post que j'ai supprimé par erreur ?", "fr"),
]

with open("questions.jsonl", "w", encoding="utf-8") as q, open("nuggets.jsonl", "w", encoding="utf-8") as n:
    for text, lang, page, groups in IN_SCOPE:
        q.write(json.dumps({"q": text, "expect": [page], "lang": lang}, ensure_ascii=False) + "\n")
        n.write(json.dumps({"q": text, "lang": lang, "nuggets": groups}, ensure_ascii=False) + "\n")
    for text, lang in OFF_TOPIC:
        q.write(json.dumps({"q": text, "expect": [], "out_of_scope": True, "lang": lang}, ensure_ascii=False) + "\n")
    for text, lang in ON_TOPIC_UNANSWERABLE:
        q.write(json.dumps({"q": text, "expect": [], "out_of_scope": True, "kind": "on_topic_unanswerable", "lang": lang}, ensure_ascii=False) + "\n")
