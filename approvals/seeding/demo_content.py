"""The demo's words: posts for each network, JSON specs, and a revision story (what `seed_demo` writes)."""

# (name, metadata.platform, text): one post at least for every network the reviewers see.
SOCIAL_POSTS = [
    (
        "linkedin-launch-post",
        "linkedin",
        "We're live! After 18 months of building, Flow ships today.\n\n"
        "Three things we learned:\n1. Talk to users weekly.\n2. Ship small.\n3. Measure what matters.\n\n"
        "#launch #startups",
    ),
    (
        "x-thread-teaser",
        "x",
        "Big news tomorrow at 9am PT. Here's a hint: your content calendar is about to get a lot lighter. 🧵 1/5",
    ),
    (
        "newsletter-intro",
        None,
        "Hello friends,\n\nThis week we look at how small teams plan a month of posts in an "
        "afternoon, and why the best captions are written last.",
    ),
    (
        "instagram-caption",
        "instagram",
        "Behind the scenes of our spring shoot 🌸 Swipe to meet the team who made it happen.",
    ),
    (
        "x-launch-day-post",
        "x",
        # Over X's 280: the link counts 23 whatever its length, each emoji 2.
        "Launch day! 🚀 Flow turns a blank content calendar into a month of drafts in one afternoon: "
        "you set the goal, the agents write, you approve what goes out. No more Sunday-night scrambles, "
        "no more posting the same line on every network. Early users cut planning time by 70% in their first "
        "week. Try it free for 30 days: https://example.com/flow/spring-launch?utm_source=x&utm_campaign=launch "
        "#buildinpublic #contentmarketing",
    ),
    (
        "threads-teaser",
        "threads",
        "Tomorrow we show what we've been building for 18 months.\n\nHint: it plans, drafts and waits for your "
        "OK. 👀 @flowapp",
    ),
    (
        "facebook-event-post",
        "facebook",
        "Join us in Berlin on 5 December for the Flow launch evening! 🎉\n\n"
        "Short talks from three teams who plan a month of posts in an afternoon, demos, and good coffee.\n\n"
        "Free entry, places are limited: reply to this post or sign up at https://example.com/events/berlin\n\n"
        "#Berlin #marketing #launch",
    ),
]

X_THREAD = {
    "thread": [
        "We shipped Flow today. Three lessons from 18 months of building it 🧵",
        "1/ Talk to users every week. Not a survey: a call. Every feature we kept came from one.",
        "2/ Ship small. Our first version only drafted LinkedIn posts. It was enough to learn what mattered.",
        "3/ Measure what matters. We stopped counting drafts and started counting posts people approved.",
        "Try it free for 30 days: https://example.com/flow",
    ]
}

JSON_SPECS = [
    (
        "posting-schedule",
        {"timezone": "Europe/Berlin", "slots": ["Mon 09:00", "Wed 12:30", "Fri 16:00"], "channels": ["linkedin", "x"]},
    ),
    ("ab-test-headlines", ["Ship content 3x faster", "Your calendar, handled", "Less planning, more posting"]),
]

# (slide name, size, gradient start, gradient end, caption, alt text) for the Instagram carousel.
CAROUSEL_SLIDES = [
    ("carousel-plan", (540, 540), (37, 99, 235), (14, 165, 233), "Plan", "Step one: a calendar filled in blue."),
    ("carousel-draft", (540, 540), (147, 51, 234), (236, 72, 153), "Draft", "Step two: drafts in purple."),
    ("carousel-ship", (540, 540), (16, 185, 129), (5, 150, 105), "Ship", "Step three: posts go out, in green."),
]
CAROUSEL_CAPTION = "Plan, draft, ship: how small teams fill a month of posts in one afternoon. #workflow #content"

IMAGES = [
    ("hero-banner", (1200, 628), (37, 99, 235), (147, 51, 234), "Spring Launch"),
    ("square-teaser", (1080, 1080), (16, 185, 129), (5, 150, 105), "Coming soon"),
    ("story-cover", (540, 960), (249, 115, 22), (220, 38, 38), "Behind the scenes"),
]

# A version 3 after two rejections: the page shows both earlier reasons and the diffs.
VIDEO_SCRIPT_VERSIONS = [
    (
        "Scene 1: logo. Scene 2: product. Scene 3: logo again.",
        "Says nothing about the customer. Start with the problem.",
    ),
    (
        "Scene 1: a marketer at midnight, calendar empty.\nScene 2: Flow fills the week.\nScene 3: logo.",
        "Better. The ending needs a call to action, and 'midnight' reads as a complaint about overtime.",
    ),
    (
        "Scene 1: a marketer on Monday morning, calendar empty.\nScene 2: Flow fills the week.\n"
        "Scene 3: 'Try it free for 30 days.' Logo.",
        None,
    ),
]
