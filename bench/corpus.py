"""A synthetic, deterministic, streaming corpus for benchmarks: tweets + Rekognition rows.

The posts imitate what the AWS blog's pipeline collected (Twitter API v1.1 streaming
statuses about Amazon-related terms) and the analysis rows imitate the
``media_rekognition`` table (see :data:`socialsight.lake.schema.MEDIA_REKOGNITION`).

* :func:`generate_posts` yields v1.1 statuses (dicts), in time order, with increasing
  snowflake ids, from a seeded :class:`random.Random`; memory stays constant.
* :func:`rekognition_rows` returns one ``media_rekognition`` row per photo of a post.
* ``python -m bench.corpus --posts N --out DIR`` writes ``DIR/posts.jsonl`` (or
  ``.jsonl.gz``) and ``DIR/media_rekognition.parquet``.

Yielded posts share some nested objects (user dicts, photo ``sizes``, re-shared media,
retweeted originals): treat them as read-only.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import gc
import gzip
import hashlib
import io
import itertools
import random
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Post = dict[str, Any]
Row = dict[str, Any]

TWITTER_EPOCH_MS = 1_288_834_974_657
DEFAULT_START_MS = 1_561_939_200_000  # 2019-07-01T00:00:00Z
DAY_MS = 86_400_000
LABEL_MODEL_VERSION = "socialsight-pack-1"
MODEL_VERSIONS: dict[str, str] = {
    "labels": LABEL_MODEL_VERSION,
    "text": "socialsight-ocr-1",
    "faces": "socialsight-faces-1",
    "celebrities": "socialsight-faces-1",
    "moderation": "socialsight-nsfw-1",
}

# --- proportions ----------------------------------------------------------------------

RETWEET_SHARE = 0.30
LINK_SHARE = 0.40  # of non-retweet bodies; retweets carry their original's links
REPLY_SHARE = 0.08
QUOTE_SHARE = 0.05
SENSITIVE_SHARE = 0.01
# Re-shared photos (same media_url as an earlier post) make ~10% of photo posts: retweets
# of a recent post of the corpus, plus re-posts of a recent photo.
RETWEET_RECENT_SHARE = 0.25  # of retweets (and quotes): the original is a recent post
REPOST_PHOTO_SHARE = 0.03  # of new photo sets: a recent photo set re-posted
PLACE_SHARE = 0.02
COORD_SHARE_OF_PLACE = 0.25
SYMBOL_SHARE = 0.02
ALT_TEXT_SHARE = 0.03
FACE_SHARE = 0.40  # of photos
TEXT_SHARE = 0.35  # of photos
MODERATION_SHARE = 0.02  # of photos
CELEBRITY_SHARE = 0.10  # of photos with faces
UNKNOWN_ATTR_SHARE = 0.5  # faces whose glasses/beard/mustache our models cannot tell

# --- vocabularies ----------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# (client name, url, weight)
_SOURCES: tuple[tuple[str, str, int], ...] = (
    ("Twitter for iPhone", "http://twitter.com/download/iphone", 34),
    ("Twitter for Android", "http://twitter.com/download/android", 24),
    ("Twitter Web App", "https://mobile.twitter.com", 14),
    ("Twitter Web Client", "http://twitter.com", 6),
    ("TweetDeck", "https://about.twitter.com/products/tweetdeck", 4),
    ("Hootsuite Inc.", "https://www.hootsuite.com", 3),
    ("Buffer", "https://buffer.com", 3),
    ("IFTTT", "https://ifttt.com", 3),
    ("dlvr.it", "https://dlvrit.com/", 2),
    ("Twitter for iPad", "http://twitter.com/#!/download/ipad", 2),
    ("Instagram", "http://instagram.com", 2),
    ("SocialOomph", "https://www.socialoomph.com", 1),
    ("WordPress.com", "http://publicize.wp.com/", 1),
    ("Sprout Social", "http://sproutsocial.com", 1),
)

_LANGS: tuple[tuple[str, int], ...] = (
    ("en", 88), ("es", 3), ("de", 2), ("fr", 2), ("ja", 2), ("it", 1), ("pt", 1), ("und", 1),
)

_FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Linda",
    "David", "Elizabeth", "Richard", "Barbara", "Joseph", "Susan", "Thomas", "Jessica",
    "Chris", "Sarah", "Daniel", "Karen", "Matt", "Nancy", "Anthony", "Lisa", "Mark", "Betty",
    "Paul", "Sandra", "Steven", "Ashley", "Andrew", "Emily", "Josh", "Megan", "Kevin",
    "Amanda", "Brian", "Melissa", "Priya", "Wei", "Carlos", "Sofia", "Lukas", "Chloe",
    "Hiro", "Yuki", "Omar", "Fatima", "Liam", "Olivia", "Noah", "Emma", "Ava", "Mia",
)
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen",
    "Hill", "Green", "Adams", "Baker", "Patel", "Kim", "Chen", "Singh", "Müller", "Rossi",
    "Tanaka", "Dubois", "Kowalski", "O'Brien", "Murphy", "Cohen",
)
_HANDLE_WORDS = (
    "books", "reads", "deals", "tech", "gadget", "kindle", "mom", "dad", "geek", "writer",
    "author", "gamer", "shopper", "savvy", "daily", "life", "nerd", "fan", "official", "hq",
)
# The most active accounts of a brand-monitoring collection are deal bots and publishers.
_BOT_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("DealsDailyBot", "Daily Deals"), ("KindleDealsNow", "Kindle Deals Now"),
    ("PrimeDayAlerts", "Prime Day Alerts"), ("BookPromoHub", "Book Promo Hub"),
    ("TechBargainsUS", "Tech Bargains"), ("FreeEbooksToday", "Free eBooks Today"),
    ("GadgetPriceDrop", "Gadget Price Drops"), ("UKDealsFinder", "UK Deals Finder"),
    ("IndieAuthorsRT", "Indie Authors RT"), ("LightningDealz", "Lightning Dealz"),
    ("EchoDealsBot", "Echo Deals"), ("RomanceReadsRT", "Romance Reads"),
)
# Brand accounts: retweeted and mentioned a lot. (screen_name, name, id, followers)
_BRANDS: tuple[tuple[str, str, int, int], ...] = (
    ("amazon", "Amazon", 20793816, 2_900_000),
    ("AmazonHelp", "Amazon Help", 85741735, 210_000),
    ("amazonkindle", "Amazon Kindle", 84249568, 2_400_000),
    ("PrimeVideo", "Amazon Prime Video", 1339835893, 2_100_000),
    ("AmazonNews", "Amazon News", 1371045698, 190_000),
    ("amazonmusic", "Amazon Music", 14740219, 1_000_000),
    ("AmazonUK", "Amazon UK", 159113017, 350_000),
    ("alexa99", "Alexa", 2964174789, 200_000),
    ("awscloud", "Amazon Web Services", 66780587, 1_500_000),
    ("AmazonStudios", "Amazon Studios", 2389806126, 250_000),
)
# Fictional people the texts talk about; the celebrity model knows them too.
# (name, rekognition id, urls, weight)
_CELEBRITIES: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("John Doe", "1Xk3mQ2", ("www.wikidata.org/wiki/Q4925477", "www.imdb.com/name/nm0230170"), 5),
    ("Jane Roe", "2Lp9sW4", ("www.wikidata.org/wiki/Q6152085",), 2),
    ("Richard Roe", "3Rt7bN1", ("www.wikidata.org/wiki/Q7326311",), 1),
    ("Mary Major", "4Mm2xZ8", ("www.imdb.com/name/nm1234567",), 1),
    ("Joe Bloggs", "5Jb6cV3", ("www.wikidata.org/wiki/Q1708432",), 1),
    ("Erika Mustermann", "6Em4gH7", ("www.wikidata.org/wiki/Q1367186",), 1),
    ("Max Mustermann", "7Mx1kL5", ("www.wikidata.org/wiki/Q1367187",), 1),
    ("Fred Nerk", "8Fn5pQ9", ("www.imdb.com/name/nm7654321",), 1),
)
_PERSON_NAMES = tuple(c[0] for c in _CELEBRITIES)

_PRODUCTS = (
    "Kindle Paperwhite", "Kindle Oasis", "Echo Dot", "Echo Show 5", "Fire TV Stick 4K",
    "Fire HD 8", "Fire HD 10", "Ring Video Doorbell", "Echo Buds", "Kindle", "Echo Plus",
    "Fire TV Cube", "Blink XT2 camera", "eero mesh router", "Echo Auto", "Echo Studio",
    "AmazonBasics charging cable", "Instant Pot", "Nintendo Switch", "AirPods",
    "Roomba", "Bose headphones", "Sony noise cancelling headphones", "iPad", "Fitbit Charge 3",
    "robot vacuum", "air fryer", "standing desk", "coffee grinder", "yoga mat",
)
_BOOKS = (
    "The Silent Orchard", "A Winter in Lisbon", "Midnight at the Lighthouse",
    "The Cartographer's Daughter", "Ten Small Mercies", "Glass Rivers", "The Last Bookshop",
    "Salt and Starlight", "Code of the Hollow", "Beneath the Copper Sky", "The Orchard Thief",
    "Northern Lights Over Oslo", "A Murder in May", "The Quiet Engineer", "Paper Hearts",
)
_TERMS = ("Amazon", "Prime Day", "Kindle", "Alexa", "Prime Video", "Whole Foods", "AWS")
_PRICES = ("$19.99", "$24.99", "$29.99", "$34.99", "$49.99", "$59.99", "$79.99", "$0.99",
           "$2.99", "£19.99", "£34.99", "€29,99", "$99", "$129.99", "$199")
_PCTS = ("20", "25", "30", "33", "40", "50", "60", "70")

_TEMPLATES: tuple[str, ...] = (
    "Just got my new {product} and I already love it",
    "Anyone else having trouble setting up their {product}? Support has been no help",
    "{person} was spotted reading {book} on a {product}",
    "Prime Day deal: {product} for {price}, that's {pct}% off",
    "Lightning deal on the {product} right now, {pct}% off for the next hour",
    "Reading {book} on my Kindle tonight and I can't put it down",
    "My package from Amazon was left in the rain again. Third time this month",
    "Can't believe {person} is on the cover of {book}",
    "{person} says the new {product} is the best thing {term} has made",
    "Is the {product} worth it at {price}? Asking for a friend",
    "{book} is free on Kindle Unlimited this week, go grab it",
    "My Prime delivery showed up a day early, not complaining",
    "Alexa just ordered cat food by itself. I have no cat",
    "Price drop alert: {product} now {price}",
    "Just finished {book}. Five stars, would read again",
    "Which is better for reading at night, the {product} or the Kindle Oasis?",
    "Amazon warehouse workers are striking during Prime Day, here's what we know",
    "Returned my {product} today, the return process was painless",
    "New episode of my favourite show dropped on Prime Video, see you in 8 hours",
    "Shopping for back to school supplies on Amazon, everything is so expensive",
    "Interview with {person} about the launch of {book}",
    "Hey {term}, where is my order? It says delivered but it's not here",
    "Unboxing the {product}, first impressions in the thread",
    "Today only: {book} by {person} is {price} on Kindle",
    "The {product} at {price} is a steal, I bought two",
    "Whole Foods has the best {pct}% off deals for Prime members today",
    "My kid dropped the {product} in the bath and it still works",
    "Finally cancelled my Prime membership. Or did I? The website makes it impossible",
    "{person} and the {term} team announced new features this morning",
    "Thank you {term} for the fast refund, great customer service",
)
# A few non-English bodies, by language.
_FOREIGN: dict[str, tuple[str, ...]] = {
    "es": ("Me encanta mi nuevo {product}", "Oferta del Prime Day: {product} a {price}"),
    "de": ("Mein neuer {product} ist da", "Angebot am Prime Day: {product} für {price}"),
    "fr": ("J'adore mon nouveau {product}", "Promo Prime Day : {product} à {price}"),
    "ja": ("新しい{product}が届きました", "プライムデーのセールで{product}を買った"),
    "it": ("Il mio nuovo {product} è arrivato", "Offerta Prime Day: {product} a {price}"),
    "pt": ("Chegou meu novo {product}", "Promoção do Prime Day: {product} por {price}"),
    "und": ("{product} {price}", "😍📦 {product}"),
}

# (hashtag, weight)
_HASHTAGS: tuple[tuple[str, int], ...] = (
    ("PrimeDay", 30), ("kindle", 20), ("amazon", 18), ("books", 14), ("deals", 12),
    ("KindleUnlimited", 8), ("PrimeDay2019", 8), ("BookBoost", 5), ("giveaway", 5),
    ("alexa", 5), ("ebook", 5), ("amreading", 4), ("romance", 4), ("thriller", 3),
    ("AmazonPrime", 4), ("tech", 3), ("sale", 4), ("FreeBook", 3), ("IARTG", 3),
    ("PrimeVideo", 3), ("booklovers", 3), ("AmazonStrike", 2), ("WholeFoods", 1),
    ("echo", 2), ("smarthome", 2), ("gadgets", 2), ("ad", 2), ("CyberMonday", 1),
)
_SYMBOLS = ("AMZN", "AAPL", "WMT", "SHOP")

# (host, weight, kind) — kind picks the path shapes below.
_LINK_HOSTS: tuple[tuple[str, int, str], ...] = (
    ("www.amazon.com", 30, "amazon"), ("amazon.com", 7, "amazon"), ("amzn.to", 16, "short"),
    ("www.amazon.co.uk", 7, "amazon"), ("smile.amazon.com", 4, "amazon"),
    ("www.amazon.de", 2, "amazon"), ("www.amazon.ca", 2, "amazon"), ("a.co", 2, "short"),
    ("www.theverge.com", 3, "news"), ("techcrunch.com", 2, "news"), ("www.cnbc.com", 3, "news"),
    ("www.nytimes.com", 2, "news"), ("www.reuters.com", 2, "news"),
    ("www.businessinsider.com", 2, "news"), ("www.goodreads.com", 2, "blog"),
    ("medium.com", 2, "blog"), ("www.bookbub.com", 1, "blog"), ("www.youtube.com", 3, "video"),
    ("youtu.be", 2, "short"), ("www.instagram.com", 2, "social"), ("bit.ly", 3, "short"),
    ("wp.me", 1, "short"), ("www.facebook.com", 1, "social"), ("www.reddit.com", 1, "social"),
)
_AMAZON_PAGES = ("/deals", "/prime", "/primeday", "/kindle-dbs/hz/subscribe/ku",
                 "/gp/goldbox", "/b?node=16225009011", "/s?k=kindle", "/gp/help/customer",
                 "/live", "/alexa-skills")
_SLUG_WORDS = ("amazon", "prime", "day", "deals", "kindle", "workers", "strike", "review",
               "best", "echo", "alexa", "privacy", "books", "sale", "2019", "guide", "new")
_TAGS = ("dealsdaily-20", "bookpromo-20", "techbargain-20", "kindlefree-21", "ukdeals-21",
         "gadgetdrop-20")
_ASIN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

_LOCATIONS = ("Seattle, WA", "New York, NY", "London, England", "Los Angeles, CA", "Toronto",
              "Chicago, IL", "Texas, USA", "Berlin, Germany", "Dublin, Ireland", "Sydney",
              "Mumbai, India", "Paris, France", "Tokyo", "San Francisco, CA", "Earth",
              "United States", "UK", "Florida", "somewhere with a book", "Manchester, UK")
_BIOS = ("Avid reader. Coffee first.", "Tech enthusiast | Opinions my own",
         "Author of thrillers and other bad decisions", "Mom of 3. Amazon Prime addict.",
         "Deals, coupons and price drops, every day", "Book blogger ☕📚",
         "Software engineer. Runner. Dog person.", "Indie author. #IARTG",
         "Gamer, streamer, gadget hoarder", "Retired teacher, full time reader", "")
_COLORS = ("1DA1F2", "F5F8FA", "C0DEED", "333333", "000000", "FFFFFF", "E81C4F", "19CF86",
           "FAB81E", "981CEB", "ABB8C2", "DDEEF6")
# (name, country_code, country, (lon_min, lat_min, lon_max, lat_max))
_PLACES: tuple[tuple[str, str, str, tuple[float, float, float, float]], ...] = (
    ("Seattle, WA", "US", "United States", (-122.44, 47.49, -122.23, 47.73)),
    ("Manhattan, NY", "US", "United States", (-74.03, 40.68, -73.90, 40.88)),
    ("London, England", "GB", "United Kingdom", (-0.51, 51.28, 0.33, 51.69)),
    ("Los Angeles, CA", "US", "United States", (-118.67, 33.70, -118.16, 34.34)),
    ("Toronto, Ontario", "CA", "Canada", (-79.64, 43.58, -79.12, 43.86)),
    ("Berlin, Germany", "DE", "Germany", (13.09, 52.34, 13.76, 52.68)),
)

# Photo dimensions (width, height, weight).
_DIMENSIONS: tuple[tuple[int, int, int], ...] = (
    (1200, 1200, 12), (1080, 1080, 10), (1200, 675, 12), (1080, 1350, 6), (2048, 1536, 6),
    (1536, 2048, 5), (750, 1334, 6), (1280, 720, 8), (900, 900, 4), (1024, 768, 5),
    (640, 640, 4), (1125, 2436, 4), (1000, 1500, 5), (1920, 1080, 5),
)

# Rekognition-like labels and every ancestor they list as parents.
_LABEL_PARENTS: dict[str, tuple[str, ...]] = {
    "Person": (), "Human": (), "Face": ("Person",), "Smile": ("Face", "Person"),
    "Head": ("Person",), "Portrait": ("Face", "Person", "Photography"), "Photography": (),
    "Photo": ("Photography",), "Selfie": ("Face", "Person", "Photography"),
    "Man": ("Person",), "Woman": ("Person",), "Female": ("Person",), "Male": ("Person",),
    "Girl": ("Female", "Person"), "Boy": ("Male", "Person"), "Crowd": ("Person",),
    "People": ("Person",), "Clothing": (), "Apparel": (), "Shirt": ("Clothing",),
    "Text": (), "Advertisement": ("Poster",), "Poster": (), "Flyer": ("Poster", "Paper"),
    "Brochure": ("Paper", "Flyer", "Poster"), "Paper": (), "Label": (), "Logo": ("Symbol",),
    "Symbol": (), "Trademark": ("Symbol", "Logo"), "Book": ("Publication",),
    "Novel": ("Book", "Publication"), "Publication": (), "Page": ("Text",),
    "Bookcase": ("Furniture",), "Shelf": ("Furniture",), "Library": ("Book", "Indoors"),
    "Electronics": (), "Computer": ("Electronics",),
    "Tablet Computer": ("Computer", "Electronics"),
    "Kindle": ("Tablet Computer", "Computer", "Electronics"),
    "Phone": ("Electronics",), "Mobile Phone": ("Phone", "Electronics"),
    "Cell Phone": ("Phone", "Electronics"), "Speaker": ("Electronics",),
    "Laptop": ("Computer", "Electronics"), "Pc": ("Computer", "Electronics"),
    "Screen": ("Electronics",), "Monitor": ("Screen", "Electronics"),
    "Display": ("Screen", "Electronics"), "LCD Screen": ("Screen", "Electronics"),
    "Headphones": ("Electronics",), "Camera": ("Electronics",), "Remote Control": ("Electronics",),
    "Box": (), "Cardboard": ("Box",), "Carton": ("Box", "Cardboard"), "Package": ("Box",),
    "Package Delivery": ("Box", "Carton"), "Tape": (), "Word": ("Text",),
    "Document": ("Text",), "Menu": ("Text",), "Food": (), "Meal": ("Food",),
    "Dish": ("Food", "Meal"), "Produce": ("Food",), "Fruit": ("Food", "Plant"),
    "Plant": (), "Vegetable": ("Food", "Plant"), "Drink": (), "Coffee Cup": ("Cup", "Drink"),
    "Cup": (), "Dog": ("Pet", "Canine", "Mammal", "Animal"), "Cat": ("Pet", "Mammal", "Animal"),
    "Pet": ("Animal",), "Canine": ("Mammal", "Animal"), "Mammal": ("Animal",), "Animal": (),
    "Nature": (), "Outdoors": (), "Building": (), "City": ("Urban", "Building"),
    "Urban": (), "Architecture": ("Building",), "Sky": ("Outdoors",), "Car": ("Vehicle",),
    "Vehicle": ("Transportation",), "Transportation": (), "Truck": ("Vehicle",),
    "Van": ("Vehicle",), "Furniture": (), "Indoors": (), "Room": ("Indoors",),
    "Living Room": ("Room", "Indoors"), "Couch": ("Furniture",), "Table": ("Furniture",),
    "Chair": ("Furniture",), "Interior Design": ("Indoors",), "Lamp": (),
    "Cartoon": (), "Comics": ("Book",), "Art": (), "Drawing": ("Art",), "Bottle": (),
    "Shoe": ("Footwear", "Clothing"), "Footwear": ("Clothing",), "Accessories": (),
    "Sunglasses": ("Accessories",), "Glasses": ("Accessories",), "Hand": ("Person",),
    "Finger": ("Hand", "Person"), "Screenshot": (), "Gift": (), "Toy": (),
}
# Labels that come with instances (bounding boxes).
_INSTANCE_LABELS = frozenset({
    "Person", "Book", "Car", "Dog", "Cat", "Bottle", "Chair", "Laptop", "Cell Phone",
    "Mobile Phone", "Tablet Computer", "Kindle", "Cup", "Shoe", "Truck", "Couch", "Box",
    "Monitor", "Speaker", "Headphones", "Camera", "Remote Control", "Sunglasses", "Glasses",
})
# Scenes: (core label pool, weight, face weight multiplier)
_SCENES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("Electronics", "Tablet Computer", "Kindle", "Phone", "Mobile Phone", "Speaker", "Laptop",
      "Screen", "Monitor", "Display", "Headphones", "Camera", "Remote Control",
      "LCD Screen"), 20),
    (("Book", "Novel", "Text", "Page", "Paper", "Publication", "Bookcase", "Shelf",
      "Library", "Comics"), 20),
    (("Person", "Human", "Clothing", "Apparel", "Crowd", "People", "Man", "Woman", "Female",
      "Male", "Girl", "Boy", "Shirt", "Head", "Photography", "Photo", "Hand"), 18),
    (("Advertisement", "Poster", "Flyer", "Brochure", "Paper", "Text", "Label", "Logo",
      "Trademark", "Symbol"), 16),
    (("Box", "Cardboard", "Carton", "Package", "Package Delivery", "Tape", "Gift"), 7),
    (("Text", "Word", "Document", "Page", "Menu", "Screen", "Electronics", "Screenshot"), 8),
    (("Food", "Meal", "Dish", "Produce", "Fruit", "Plant", "Vegetable", "Drink", "Coffee Cup",
      "Cup", "Bottle"), 4),
    (("Dog", "Cat", "Pet", "Canine", "Mammal", "Animal"), 3),
    (("Nature", "Outdoors", "Building", "City", "Urban", "Architecture", "Sky", "Car",
      "Vehicle", "Truck", "Van", "Transportation"), 4),
    (("Furniture", "Indoors", "Room", "Living Room", "Couch", "Table", "Chair",
      "Interior Design", "Lamp", "Shelf"), 4),
    (("Text", "Poster", "Cartoon", "Comics", "Art", "Drawing", "Word"), 4),
)
_FILLER_LABELS = ("Text", "Paper", "Indoors", "Furniture", "Plant", "Accessories", "Hand",
                  "Finger", "Art", "Drawing", "Clothing", "Apparel", "Sky", "Outdoors",
                  "Label", "Symbol", "Logo", "Bottle", "Cup", "Table", "Lamp", "Shoe",
                  "Footwear", "Glasses", "Sunglasses", "Toy", "Gift", "Screen")
_FACE_LABELS = ("Person", "Human", "Face")
_FACE_EXTRAS = ("Smile", "Portrait", "Selfie", "Head", "Photography", "Man", "Woman",
                "Clothing", "Apparel")

# Rekognition moderation taxonomy: (label, top-level parent, weight).
_MODERATION: tuple[tuple[str, str, int], ...] = (
    ("Revealing Clothes", "Suggestive", 25), ("Female Swimwear Or Underwear", "Suggestive", 20),
    ("Male Swimwear Or Underwear", "Suggestive", 8), ("Partial Nudity", "Suggestive", 8),
    ("Nudity", "Explicit Nudity", 5), ("Graphic Male Nudity", "Explicit Nudity", 2),
    ("Graphic Female Nudity", "Explicit Nudity", 2), ("Weapons", "Violence", 4),
    ("Weapon Violence", "Violence", 2), ("Physical Violence", "Violence", 2),
    ("Graphic Violence Or Gore", "Violence", 1), ("Emaciated Bodies", "Visually Disturbing", 1),
    ("Middle Finger", "Rude Gestures", 3), ("Alcoholic Beverages", "Alcohol", 6),
    ("Drinking", "Alcohol", 3), ("Smoking", "Tobacco", 3), ("Tobacco Products", "Tobacco", 2),
    ("Pills", "Drugs", 2), ("Drug Paraphernalia", "Drugs", 1), ("Gambling", "Gambling", 1),
)
# Texts in photos: a headline (first LINE) and further lines.
_HEADLINES = (
    "SALE 50% OFF", "PRIME DAY", "Limited Time Deal", "Kindle Paperwhite", "Echo Dot",
    "Fire TV Stick 4K", "FREE SHIPPING", "NEW RELEASE", "Deal of the Day", "BESTSELLER",
    "Now on Kindle Unlimited", "Your package was delivered", "Order placed", "SALE 30% OFF",
    "The Silent Orchard", "A Winter in Lisbon", "Glass Rivers", "Echo Show 5", "GIVEAWAY",
)
_TEXT_LINES = (
    "Add to Cart", "Buy Now", "4.5 out of 5 stars", "Only 3 left in stock",
    "Ships from and sold by Amazon.com", "Customer reviews", "FREE with Kindle Unlimited",
    "Available now", "amazon.com", "Prime members save more", "Ends tonight", "Pre-order now",
    "a novel", "#1 Amazon Best Seller", "Save $20", "Arriving tomorrow", "Sign up today",
)
# Emotions: (type, weight as the dominant one).
_EMOTIONS: tuple[tuple[str, int], ...] = (
    ("CALM", 45), ("HAPPY", 35), ("SAD", 6), ("SURPRISED", 5), ("CONFUSED", 3), ("ANGRY", 3),
    ("DISGUSTED", 2), ("FEAR", 1),
)
_BASE_EMOTIONS = ("HAPPY", "CALM", "SAD", "ANGRY", "SURPRISED", "DISGUSTED", "FEAR")
_LANDMARK_TYPES: tuple[tuple[str, float, float], ...] = (
    ("eyeLeft", 0.3, 0.38), ("eyeRight", 0.7, 0.38), ("nose", 0.5, 0.58),
    ("mouthLeft", 0.35, 0.78), ("mouthRight", 0.65, 0.78),
)
_OPTIONAL_ATTRS = ("eyeglasses", "sunglasses", "beard", "mustache")


# Keys of a top-level status that an embedded original does not carry.
_NOT_EMBEDDED = frozenset({"timestamp_ms", "quoted_status", "filter_level"})


# --- small helpers -----------------------------------------------------------------------

def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class _Weighted:
    """A weighted choice by bisection over cumulative weights."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self.cum = _cumulative(weights)
        self.total = self.cum[-1]

    def pick(self, rnd: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rnd.random() * self.total)]


_SOURCE_PICK = _Weighted([f'<a href="{u}" rel="nofollow">{n}</a>' for n, u, _ in _SOURCES],
                         [w for *_, w in _SOURCES])
_LANG_PICK = _Weighted([c for c, _ in _LANGS], [w for _, w in _LANGS])
_HASHTAG_PICK = _Weighted([h for h, _ in _HASHTAGS], [w for _, w in _HASHTAGS])
_HOST_PICK = _Weighted([(h, k) for h, _, k in _LINK_HOSTS], [w for _, w, _ in _LINK_HOSTS])
_CELEB_PICK = _Weighted(_CELEBRITIES, [c[3] for c in _CELEBRITIES])
_MODERATION_PICK = _Weighted([(n, p) for n, p, _ in _MODERATION], [w for *_, w in _MODERATION])
_EMOTION_PICK = _Weighted([e for e, _ in _EMOTIONS], [w for _, w in _EMOTIONS])
_SCENE_PICK = _Weighted([s for s, _ in _SCENES], [w for _, w in _SCENES])


def _fit(w: int, h: int, limit: int) -> dict[str, Any]:
    scale = min(1.0, limit / max(w, h))
    return {"w": round(w * scale), "h": round(h * scale), "resize": "fit"}


def _sizes(w: int, h: int) -> dict[str, Any]:
    return {
        "thumb": {"w": 150, "h": 150, "resize": "crop"},
        "small": _fit(w, h, 680),
        "medium": _fit(w, h, 1200),
        "large": _fit(w, h, 2048),
    }


# One shared sizes dict per dimension class (read-only).
_DIM_PICK = _Weighted([(w, h, _sizes(w, h)) for w, h, _ in _DIMENSIONS],
                      [wt for *_, wt in _DIMENSIONS])

_DAY_CACHE: dict[int, tuple[str, str]] = {}


def format_created_at(ms: int) -> str:
    """``Fri Jul 12 23:40:37 +0000 2019`` for epoch milliseconds (UTC, locale-free)."""
    secs = ms // 1000
    day, rem = divmod(secs, 86_400)
    parts = _DAY_CACHE.get(day)
    if parts is None:
        t = time.gmtime(day * 86_400)
        parts = (f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} ",
                 f" +0000 {t.tm_year}")
        _DAY_CACHE[day] = parts
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    return f"{parts[0]}{hh:02d}:{mm:02d}:{ss:02d}{parts[1]}"


def snowflake(ms: int, low_bits: int) -> int:
    """A Twitter-style id: milliseconds since the Twitter epoch, then 22 low bits."""
    return ((ms - TWITTER_EPOCH_MS) << 22) | (low_bits & 0x3FFFFF)


def _tco(rnd: random.Random) -> str:
    code = base64.b64encode(rnd.randbytes(8), altchars=b"xQ")[:10].decode()
    return "https://t.co/" + code


def _display(url: str) -> str:
    bare = url.split("://", 1)[-1]
    if bare.startswith("www."):
        bare = bare[4:]
    return bare if len(bare) <= 26 else bare[:26] + "…"


# --- users -------------------------------------------------------------------------------

def _make_user(rnd: random.Random, rank: int, handle: str, name: str, bot: bool) -> Post:
    uid = rnd.randrange(10_000_000, 1_150_000_000_000_000_000) if rnd.random() < 0.4 \
        else rnd.randrange(1_000_000, 3_000_000_000)
    followers = int(rnd.lognormvariate(5.5, 1.8)) + (5000 if bot else 0)
    verified = followers > 50_000 and rnd.random() < 0.3
    created_ms = rnd.randrange(1_199_145_600_000, 1_561_000_000_000)
    default_profile = rnd.random() < 0.35
    color = _COLORS[rank % len(_COLORS)]
    img = f"{rnd.randrange(10**17, 10**18)}/{''.join(rnd.choices(_ALNUM, k=8))}_normal.jpg"
    return {
        "id": uid,
        "id_str": str(uid),
        "name": name,
        "screen_name": handle,
        "location": rnd.choice(_LOCATIONS) if rnd.random() < 0.6 else None,
        "url": f"https://{handle.lower()}.com" if rnd.random() < 0.15 else None,
        "description": rnd.choice(_BIOS) or None,
        "translator_type": "none",
        "protected": False,
        "verified": verified,
        "followers_count": followers,
        "friends_count": int(rnd.lognormvariate(5.5, 1.2)),
        "listed_count": followers // rnd.randrange(40, 400),
        "favourites_count": int(rnd.lognormvariate(7.0, 2.0)),
        "statuses_count": int(rnd.lognormvariate(8.0, 1.8)) + (50_000 if bot else 0),
        "created_at": format_created_at(created_ms),
        "utc_offset": None,
        "time_zone": None,
        "geo_enabled": rnd.random() < 0.3,
        "lang": None,
        "contributors_enabled": False,
        "is_translator": False,
        "profile_background_color": color,
        "profile_background_image_url": "http://abs.twimg.com/images/themes/theme1/bg.png",
        "profile_background_image_url_https":
            "https://abs.twimg.com/images/themes/theme1/bg.png",
        "profile_background_tile": False,
        "profile_link_color": "1DA1F2" if default_profile else rnd.choice(_COLORS),
        "profile_sidebar_border_color": "C0DEED",
        "profile_sidebar_fill_color": "DDEEF6",
        "profile_text_color": "333333",
        "profile_use_background_image": True,
        "profile_image_url": f"http://pbs.twimg.com/profile_images/{img}",
        "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{img}",
        "profile_banner_url": (f"https://pbs.twimg.com/profile_banners/{uid}/"
                               f"{created_ms // 1000 + 10**8}") if rnd.random() < 0.6 else None,
        "default_profile": default_profile,
        "default_profile_image": rnd.random() < 0.05,
        "following": None,
        "follow_request_sent": None,
        "notifications": None,
    }


def _make_users(rnd: random.Random, count: int) -> list[Post]:
    users: list[Post] = []
    seen: set[str] = set()
    for rank in range(count):
        bot = rank < len(_BOT_ACCOUNTS)
        if bot:
            handle, name = _BOT_ACCOUNTS[rank]
        else:
            first, last = rnd.choice(_FIRST_NAMES), rnd.choice(_LAST_NAMES)
            name = f"{first} {last}"
            style = rnd.random()
            if style < 0.4:
                handle = f"{first}{last}".replace("'", "").replace("ü", "u")
            elif style < 0.7:
                handle = f"{first.lower()}_{rnd.choice(_HANDLE_WORDS)}"
            else:
                handle = f"{first[0]}{last}{rnd.randrange(1, 999)}".replace("'", "")
            handle = handle.replace("ü", "u")[:15]
        while handle.lower() in seen:
            handle = f"{handle[:11]}{rnd.randrange(1000, 9999)}"
        seen.add(handle.lower())
        users.append(_make_user(rnd, rank, handle, name, bot))
    return users


def _brand_users() -> list[Post]:
    out = []
    for sn, name, uid, followers in _BRANDS:
        out.append({
            "id": uid, "id_str": str(uid), "name": name, "screen_name": sn,
            "location": "Seattle, WA", "url": "https://www.amazon.com",
            "description": f"The official {name} account.", "translator_type": "none",
            "protected": False, "verified": True, "followers_count": followers,
            "friends_count": 150, "listed_count": followers // 100,
            "favourites_count": 5000, "statuses_count": 40_000,
            "created_at": format_created_at(1_230_000_000_000 + uid % 10**11),
            "utc_offset": None, "time_zone": None, "geo_enabled": False, "lang": None,
            "contributors_enabled": False, "is_translator": False,
            "profile_background_color": "000000",
            "profile_background_image_url": "http://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_image_url_https":
                "https://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_tile": False, "profile_link_color": "FF9900",
            "profile_sidebar_border_color": "000000", "profile_sidebar_fill_color": "000000",
            "profile_text_color": "000000", "profile_use_background_image": False,
            "profile_image_url": f"http://pbs.twimg.com/profile_images/{uid}/logo_normal.png",
            "profile_image_url_https":
                f"https://pbs.twimg.com/profile_images/{uid}/logo_normal.png",
            "profile_banner_url": f"https://pbs.twimg.com/profile_banners/{uid}/1560000000",
            "default_profile": False, "default_profile_image": False,
            "following": None, "follow_request_sent": None, "notifications": None,
        })
    return out


# --- the post generator -------------------------------------------------------------------

class _Corpus:
    """Generator state: users, ASINs, recent posts to retweet and photos to re-share."""

    POOL = 2048  # ring buffers of recent originals / photos (constant memory)

    def __init__(self, seed: int, users: int, photo_share: float) -> None:
        self.rnd = random.Random(seed)
        rnd = self.rnd
        self.photo_share = photo_share
        self.users = _make_users(rnd, users)
        # Zipf-like activity: rank r posts with weight 1 / (r + 2) ** 1.1.
        self.user_cum = _cumulative([1.0 / (r + 2) ** 1.1 for r in range(users)])
        self.brands = _brand_users()
        self.asins = tuple(
            ("B0" + "".join(rnd.choices(_ASIN_CHARS, k=8))) if rnd.random() < 0.8
            else "".join(rnd.choices("0123456789", k=9)) + rnd.choice("0123456789X")
            for _ in range(3000)
        )
        self.recent_plain: list[Post] = []
        self.recent_photo: list[Post] = []
        self.recent_media: list[tuple[list[Post], Post]] = []
        self.media_seq = 0
        self.orig_seq = 0

    # helpers ------------------------------------------------------------------------------

    def user(self) -> Post:
        r = self.rnd.random() * self.user_cum[-1]
        return self.users[bisect.bisect_right(self.user_cum, r)]

    def author(self) -> Post:
        """Whom people retweet and quote: brands a lot, otherwise the active users."""
        if self.rnd.random() < 0.3:
            return self.brands[int(self.rnd.random() ** 2 * len(self.brands))]
        return self.user()

    def link(self) -> str:
        rnd = self.rnd
        host, kind = _HOST_PICK.pick(rnd)
        if kind == "amazon":
            if rnd.random() < 0.7:
                asin = self.asins[int(rnd.random() ** 3 * len(self.asins))]
                r = rnd.random()
                if r < 0.55:
                    path = f"/dp/{asin}"
                elif r < 0.85:
                    words = "-".join(rnd.choices(_SLUG_WORDS, k=3)).title()
                    path = f"/{words}/dp/{asin}/ref=sr_1_{rnd.randrange(1, 20)}"
                else:
                    path = f"/gp/product/{asin}"
                if rnd.random() < 0.35:
                    path += f"?tag={_TAGS[int(rnd.random() * len(_TAGS))]}"
            else:
                path = _AMAZON_PAGES[int(rnd.random() * len(_AMAZON_PAGES))]
        elif kind == "short":
            path = "/" + "".join(rnd.choices(_ALNUM, k=7))
        elif kind == "news":
            path = (f"/2019/07/{rnd.randrange(1, 29):02d}/"
                    + "-".join(rnd.choices(_SLUG_WORDS, k=5)) + "/")
        elif kind == "video":
            path = "/watch?v=" + "".join(rnd.choices(_ALNUM, k=11))
        else:
            path = "/" + "-".join(rnd.choices(_SLUG_WORDS, k=4))
        return f"https://{host}{path}"

    def phrase(self, lang: str) -> str:
        rnd = self.rnd
        if lang != "en":
            pool = _FOREIGN[lang]
            template = pool[int(rnd.random() * len(pool))]
        else:
            template = _TEMPLATES[int(rnd.random() * len(_TEMPLATES))]
        if "{" not in template:
            return template
        return template.format(
            product=_PRODUCTS[int(rnd.random() * len(_PRODUCTS))],
            book=_BOOKS[int(rnd.random() * len(_BOOKS))],
            person=_PERSON_NAMES[int(rnd.random() ** 1.5 * len(_PERSON_NAMES))],
            term=_TERMS[int(rnd.random() * len(_TERMS))],
            price=_PRICES[int(rnd.random() * len(_PRICES))],
            pct=_PCTS[int(rnd.random() * len(_PCTS))],
        )

    def mention(self, user: Post, start: int) -> Post:
        sn = user["screen_name"]
        return {"screen_name": sn, "name": user["name"], "id": user["id"],
                "id_str": user["id_str"], "indices": [start, start + 1 + len(sn)]}

    def photos(self, ms: int, status_id: int, user: Post, start: int) -> list[Post]:
        """1–4 new photos (or a re-shared set) whose t.co link sits at text[start:]."""
        rnd = self.rnd
        url = _tco(rnd)
        end = start + len(url)
        if self.recent_media and rnd.random() < REPOST_PHOTO_SHARE:
            media, src = self.recent_media[int(rnd.random() * len(self.recent_media))]
            return [{**m, "indices": [start, end], "url": url,
                     "source_status_id": src["id"], "source_status_id_str": src["id_str"],
                     "source_user_id": src["user"]["id"],
                     "source_user_id_str": src["user"]["id_str"]} for m in media]
        r = rnd.random()
        count = 1 if r < 0.7 else 2 if r < 0.85 else 3 if r < 0.93 else 4
        display = "pic.twitter.com/" + url[13:]
        expanded = f"https://twitter.com/{user['screen_name']}/status/{status_id}/photo/1"
        upload_ms = ms - rnd.randrange(2_000, 120_000)
        out = []
        for _ in range(count):
            self.media_seq += 1
            mid = snowflake(upload_ms, self.media_seq)
            w, h, sizes = _DIM_PICK.pick(rnd)
            key = base64.urlsafe_b64encode(rnd.randbytes(11))[:15].decode()
            out.append({
                "id": mid, "id_str": str(mid), "indices": [start, end],
                "media_url": f"http://pbs.twimg.com/media/{key}.jpg",
                "media_url_https": f"https://pbs.twimg.com/media/{key}.jpg",
                "url": url, "display_url": display, "expanded_url": expanded,
                "type": "photo", "sizes": sizes,
                "ext_alt_text": (self.phrase("en") if rnd.random() < ALT_TEXT_SHARE else None),
                "original_info": {"width": w, "height": h},
            })
        return out

    def remember(self, ring: list[Any], item: Any) -> None:
        if len(ring) < self.POOL:
            ring.append(item)
        else:
            ring[int(self.rnd.random() * self.POOL)] = item

    def body(self, ms: int, status_id: int, user: Post, lang: str, with_photo: bool,
             prefix: str = "", prefix_mentions: Sequence[Post] = ()) -> Post:
        """Text and entities of an original post (text starts with ``prefix``)."""
        rnd = self.rnd
        text = prefix
        mentions = list(prefix_mentions)
        if rnd.random() < 0.12:  # talking at a brand or a person
            target = self.brands[int(rnd.random() ** 2 * len(self.brands))] \
                if rnd.random() < 0.7 else self.user()
            mentions.append(self.mention(target, len(text)))
            text += "@" + target["screen_name"] + " "
        text += self.phrase(lang)
        hashtags = []
        symbols = []
        r = rnd.random()
        for _ in range(0 if r < 0.45 else 1 if r < 0.75 else 2 if r < 0.92 else 3):
            tag = _HASHTAG_PICK.pick(rnd)
            start = len(text) + 1
            text += " #" + tag
            hashtags.append({"text": tag, "indices": [start, start + 1 + len(tag)]})
        if rnd.random() < SYMBOL_SHARE:
            sym = _SYMBOLS[int(rnd.random() ** 2 * len(_SYMBOLS))]
            start = len(text) + 1
            text += " $" + sym
            symbols.append({"text": sym, "indices": [start, start + 1 + len(sym)]})
        if rnd.random() < 0.06:
            via = self.brands[int(rnd.random() * len(self.brands))]
            text += " via"
            mentions.append(self.mention(via, len(text) + 1))
            text += " @" + via["screen_name"]
        urls = []
        if rnd.random() < LINK_SHARE:
            expanded = self.link()
            short = _tco(rnd)
            start = len(text) + 1
            text += " " + short
            urls.append({"url": short, "expanded_url": expanded, "display_url": _display(expanded),
                         "indices": [start, start + len(short)]})
        post: Post = {
            "text": text,
            "entities": {"hashtags": hashtags, "urls": urls, "user_mentions": mentions,
                         "symbols": symbols},
        }
        if with_photo:
            media = self.photos(ms, status_id, user, len(text) + 1)
            post["text"] = text + " " + media[0]["url"]
            post["entities"]["media"] = [media[0]]
            post["extended_entities"] = {"media": media}
        return post

    def status(self, ms: int, status_id: int, user: Post, with_photo: bool,
               source: str | None = None, **extra: Any) -> Post:
        """A whole original status (used top-level and as an embedded original)."""
        rnd = self.rnd
        lang = _LANG_PICK.pick(rnd)
        body = self.body(ms, status_id, user, lang, with_photo, **extra)
        post: Post = {
            "created_at": format_created_at(ms),
            "id": status_id,
            "id_str": str(status_id),
            "text": body["text"],
            "source": source or _SOURCE_PICK.pick(rnd),
            "truncated": False,
            "in_reply_to_status_id": None,
            "in_reply_to_status_id_str": None,
            "in_reply_to_user_id": None,
            "in_reply_to_user_id_str": None,
            "in_reply_to_screen_name": None,
            "user": user,
            "geo": None,
            "coordinates": None,
            "place": None,
            "contributors": None,
            "is_quote_status": False,
            "quote_count": 0,
            "reply_count": 0,
            "retweet_count": 0,
            "favorite_count": 0,
            "entities": body["entities"],
            "favorited": False,
            "retweeted": False,
            "filter_level": "low",
            "lang": lang,
        }
        if "extended_entities" in body:
            post["extended_entities"] = body["extended_entities"]
        return post

    def original(self, ms: int, with_photo: bool) -> Post:
        """The original behind a retweet or quote: a recent post of ours, or an older one."""
        rnd = self.rnd
        ring = self.recent_photo if with_photo else self.recent_plain
        if ring and rnd.random() < RETWEET_RECENT_SHARE:
            base = ring[int(rnd.random() * len(ring))]
            # One level of embedding, as the API does: no quote inside the original.
            orig = {k: v for k, v in base.items() if k not in _NOT_EMBEDDED}
        else:
            orig_ms = ms - int(rnd.random() ** 3 * 3 * DAY_MS) - 1000
            self.orig_seq += 1
            oid = snowflake(orig_ms, (self.orig_seq << 5) | 1)
            orig = self.status(orig_ms, oid, self.author(), with_photo)
            if with_photo:
                self.remember(self.recent_media, (orig["extended_entities"]["media"], orig))
            if "extended_entities" in orig or orig["entities"]["urls"]:
                orig["possibly_sensitive"] = rnd.random() < SENSITIVE_SHARE
        # Counts at the time of the retweet: heavy tailed.
        orig["retweet_count"] = int(rnd.paretovariate(1.2)) - 1 + int(rnd.random() * 5)
        orig["favorite_count"] = int(orig["retweet_count"] * (1 + rnd.random() * 4))
        orig["reply_count"] = int(orig["retweet_count"] * rnd.random() * 0.3)
        orig["quote_count"] = int(orig["retweet_count"] * rnd.random() * 0.1)
        return orig

    def post(self, ms: int, status_id: int) -> Post:
        rnd = self.rnd
        user = self.user()
        with_photo = rnd.random() < self.photo_share
        r = rnd.random()
        if r < RETWEET_SHARE:
            orig = self.original(ms, with_photo)
            author = orig["user"]["screen_name"]
            prefix = f"RT @{author}: "
            shift = len(prefix)
            ents = orig["entities"]

            def moved(items: list[Post]) -> list[Post]:
                return [{**e, "indices": [e["indices"][0] + shift, e["indices"][1] + shift]}
                        for e in items]

            post: Post = {
                "created_at": format_created_at(ms), "id": status_id, "id_str": str(status_id),
                "text": prefix + orig["text"], "source": _SOURCE_PICK.pick(rnd),
                "truncated": False, "in_reply_to_status_id": None,
                "in_reply_to_status_id_str": None, "in_reply_to_user_id": None,
                "in_reply_to_user_id_str": None, "in_reply_to_screen_name": None,
                "user": user, "geo": None, "coordinates": None, "place": None,
                "contributors": None, "retweeted_status": orig, "is_quote_status": False,
                "quote_count": 0, "reply_count": 0, "retweet_count": 0, "favorite_count": 0,
                "entities": {
                    "hashtags": moved(ents["hashtags"]), "urls": moved(ents["urls"]),
                    "user_mentions": [self.mention(orig["user"], 3),
                                      *moved(ents["user_mentions"])],
                    "symbols": moved(ents["symbols"]),
                },
                "favorited": False, "retweeted": False, "filter_level": "low",
                "lang": orig["lang"],
            }
            if "extended_entities" in orig:
                media = moved(orig["extended_entities"]["media"])
                post["entities"]["media"] = media[:1]
                post["extended_entities"] = {"media": media}
            if "possibly_sensitive" in orig:
                post["possibly_sensitive"] = orig["possibly_sensitive"]
        else:
            extra: dict[str, Any] = {}
            reply_to = None
            if r < RETWEET_SHARE + REPLY_SHARE:
                reply_to = self.author() if rnd.random() < 0.6 else self.user()
                extra = {"prefix": "@" + reply_to["screen_name"] + " ",
                         "prefix_mentions": (self.mention(reply_to, 0),)}
            post = self.status(ms, status_id, user, with_photo, **extra)
            if reply_to is not None:
                rid = snowflake(ms - int(rnd.random() * DAY_MS) - 1, rnd.getrandbits(22))
                post["in_reply_to_status_id"] = rid
                post["in_reply_to_status_id_str"] = str(rid)
                post["in_reply_to_user_id"] = reply_to["id"]
                post["in_reply_to_user_id_str"] = reply_to["id_str"]
                post["in_reply_to_screen_name"] = reply_to["screen_name"]
            elif r > 1.0 - QUOTE_SHARE:
                quoted = self.original(ms, rnd.random() < self.photo_share)
                post["is_quote_status"] = True
                post["quoted_status_id"] = quoted["id"]
                post["quoted_status_id_str"] = quoted["id_str"]
                post["quoted_status"] = quoted
            if rnd.random() < PLACE_SHARE:
                self.locate(post)
            if with_photo:
                self.remember(self.recent_photo, post)
                self.remember(self.recent_media, (post["extended_entities"]["media"], post))
            elif reply_to is None:
                self.remember(self.recent_plain, post)
        sensitive = rnd.random() < SENSITIVE_SHARE
        if "possibly_sensitive" not in post and (
                sensitive or "extended_entities" in post or post["entities"]["urls"]):
            post["possibly_sensitive"] = sensitive
        post["timestamp_ms"] = str(ms)
        return post

    def locate(self, post: Post) -> None:
        rnd = self.rnd
        name, cc, country, (x0, y0, x1, y1) = _PLACES[int(rnd.random() * len(_PLACES))]
        post["place"] = {
            "id": hashlib.md5(name.encode()).hexdigest()[:16],
            "url": "https://api.twitter.com/1.1/geo/id/"
                   + hashlib.md5(name.encode()).hexdigest()[:16] + ".json",
            "place_type": "city", "name": name.split(",")[0], "full_name": name,
            "country_code": cc, "country": country,
            "bounding_box": {"type": "Polygon",
                             "coordinates": [[[x0, y0], [x0, y1], [x1, y1], [x1, y0]]]},
            "attributes": {},
        }
        if rnd.random() < COORD_SHARE_OF_PLACE:
            lon = round(x0 + (x1 - x0) * rnd.random(), 6)
            lat = round(y0 + (y1 - y0) * rnd.random(), 6)
            post["coordinates"] = {"type": "Point", "coordinates": [lon, lat]}
            post["geo"] = {"type": "Point", "coordinates": [lat, lon]}


def generate_posts(n: int, seed: int = 0, start_ms: int = DEFAULT_START_MS, days: int = 42,
                   photo_share: float = 0.05, users: int = 4000) -> Iterator[Post]:
    """Yield ``n`` Twitter v1.1 streaming statuses spread evenly over ``days`` days.

    Posts come in time order with strictly increasing ``timestamp_ms`` (a string, as the
    streaming API sends it) and snowflake ``id``; the same ``seed`` gives the same posts.
    ``photo_share`` is the share of posts carrying 1–4 photos.
    """
    corpus = _Corpus(seed, users, photo_share)
    rnd = corpus.rnd
    step = days * DAY_MS / max(n, 1)
    last = start_ms - 1
    make = corpus.post
    for i in range(n):
        ms = start_ms + int((i + rnd.random()) * step)
        if ms <= last:
            ms = last + 1
        last = ms
        yield make(ms, snowflake(ms, rnd.getrandbits(22)))


# --- Rekognition rows -------------------------------------------------------------------

def _box(rnd: random.Random, wmin: float, wmax: float, aspect: float = 1.0) -> Post:
    w = wmin + (wmax - wmin) * rnd.random()
    h = min(0.98, w * aspect * (0.8 + 0.4 * rnd.random()))
    return {"width": w, "height": h, "left": (1.0 - w) * rnd.random(),
            "top": (1.0 - h) * rnd.random()}


def _polygon(box: Post) -> list[Post]:
    x0, y0 = box["left"], box["top"]
    x1, y1 = x0 + box["width"], y0 + box["height"]
    return [{"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}, {"x": x0, "y": y1}]


def _bool_attr(rnd: random.Random, p_true: float) -> Post:
    return {"value": rnd.random() < p_true, "confidence": 70.0 + 29.9 * rnd.random()}


def _face_detail(rnd: random.Random, aspect: float) -> Post:
    box = _box(rnd, 0.06, 0.4, aspect)
    lx, ty, bw, bh = box["left"], box["top"], box["width"], box["height"]
    landmarks = [{"type": t, "x": lx + bw * (fx + 0.04 * (rnd.random() - 0.5)),
                  "y": ty + bh * (fy + 0.04 * (rnd.random() - 0.5))}
                 for t, fx, fy in _LANDMARK_TYPES]
    dominant = _EMOTION_PICK.pick(rnd)
    top = 50.0 + 49.9 * rnd.random()
    types = [*_BASE_EMOTIONS, "CONFUSED"] if (dominant == "CONFUSED" or rnd.random() < 0.3) \
        else list(_BASE_EMOTIONS)
    rest = 100.0 - top
    emotions = [{"type": dominant, "confidence": top}]
    for t in types:
        if t != dominant:
            share = rest * rnd.random() * 0.6
            rest -= share
            emotions.append({"type": t, "confidence": share})
    low = int(rnd.triangular(8, 65, 28))
    happy = dominant == "HAPPY"
    face: Post = {
        "boundingbox": box,
        "confidence": 90.0 + 9.99 * rnd.random(),
        "agerange": {"low": low, "high": low + rnd.randrange(4, 14)},
        "gender": {"value": "Female" if rnd.random() < 0.5 else "Male",
                   "confidence": 60.0 + 39.9 * rnd.random()},
        "smile": _bool_attr(rnd, 0.85 if happy else 0.15),
        "eyesopen": _bool_attr(rnd, 0.9),
        "mouthopen": _bool_attr(rnd, 0.5 if happy else 0.15),
        "emotions": emotions,
        "landmarks": landmarks,
        "pose": {"roll": rnd.gauss(0, 8), "yaw": rnd.gauss(0, 20), "pitch": rnd.gauss(0, 10)},
        "quality": {"brightness": 30 + 60 * rnd.random(), "sharpness": 20 + 78 * rnd.random()},
    }
    unknown = rnd.random() < UNKNOWN_ATTR_SHARE
    for attr, p in zip(_OPTIONAL_ATTRS, (0.15, 0.05, 0.12, 0.08), strict=True):
        face[attr] = None if unknown else _bool_attr(rnd, p)
    return face


def _text_detections(rnd: random.Random) -> list[Post]:
    r = rnd.random()
    nlines = 1 if r < 0.4 else 2 if r < 0.7 else 3 if r < 0.9 else 4
    lines = [_HEADLINES[int(rnd.random() * len(_HEADLINES))]]
    lines += [_TEXT_LINES[int(rnd.random() * len(_TEXT_LINES))] for _ in range(nlines - 1)]
    items: list[Post] = []
    words: list[Post] = []
    next_id = nlines
    y = 0.05 + 0.2 * rnd.random()
    for line_id, line in enumerate(lines):
        height = 0.04 + 0.08 * rnd.random()
        width = min(0.95, 0.025 * len(line) * (0.6 + 0.8 * rnd.random()))
        left = (1.0 - width) * rnd.random()
        box = {"width": width, "height": height, "left": left, "top": min(y, 0.95 - height)}
        conf = 80.0 + 19.9 * rnd.random()
        items.append({"detectedtext": line, "type": "LINE", "id": line_id, "parentid": None,
                      "confidence": conf,
                      "geometry": {"boundingbox": box, "polygon": _polygon(box)}})
        x = left
        per_char = width / max(len(line), 1)
        for word in line.split():
            wbox = {"width": per_char * len(word), "height": height, "left": x,
                    "top": box["top"]}
            x += per_char * (len(word) + 1)
            words.append({"detectedtext": word, "type": "WORD", "id": next_id,
                          "parentid": line_id, "confidence": conf - 5 * rnd.random(),
                          "geometry": {"boundingbox": wbox, "polygon": _polygon(wbox)}})
            next_id += 1
        y += height + 0.03 + 0.1 * rnd.random()
    return items + words


def _labels(rnd: random.Random, faces: list[Post], has_text: bool) -> list[Post]:
    conf: dict[str, float] = {}
    pool = _SCENE_PICK.pick(rnd)
    for name in rnd.sample(pool, min(len(pool), rnd.randrange(3, 9))):
        conf[name] = 70.0 + 29.9 * rnd.random()
    for _ in range(rnd.randrange(0, 7)):
        name = _FILLER_LABELS[int(rnd.random() * len(_FILLER_LABELS))]
        conf.setdefault(name, 50.0 + 35.0 * rnd.random())
    if faces:
        for name in _FACE_LABELS:
            conf[name] = max(conf.get(name, 0.0), 95.0 + 4.9 * rnd.random())
        for _ in range(rnd.randrange(1, 4)):
            name = _FACE_EXTRAS[int(rnd.random() * len(_FACE_EXTRAS))]
            conf.setdefault(name, 60.0 + 39.0 * rnd.random())
    if "Person" in conf:
        conf.setdefault("Human", conf["Person"])
    if has_text:
        conf["Text"] = max(conf.get("Text", 0.0), 85.0 + 14.9 * rnd.random())
    # Rekognition returns every ancestor as a label too, at least as confident.
    for name, c in list(conf.items()):
        for parent in _LABEL_PARENTS.get(name, ()):
            if conf.get(parent, 0.0) < c:
                conf[parent] = c
    while len(conf) < 5:
        conf.setdefault(_FILLER_LABELS[int(rnd.random() * len(_FILLER_LABELS))],
                        50.0 + 30.0 * rnd.random())
    names = sorted(conf, key=conf.__getitem__, reverse=True)[:25]
    out = []
    for name in names:
        instances: list[Post] = []
        if name == "Person" and faces:
            for f in faces:
                fb = f["boundingbox"]
                w = min(1.0, fb["width"] * 2.5)
                h = min(1.0, fb["height"] * 3.5)
                instances.append({"confidence": f["confidence"], "boundingbox": {
                    "width": w, "height": h, "left": max(0.0, fb["left"] - fb["width"] * 0.75),
                    "top": fb["top"] * 0.9}})
        elif name in _INSTANCE_LABELS:
            for _ in range(1 if rnd.random() < 0.7 else rnd.randrange(2, 4)):
                instances.append({"confidence": conf[name] - 5 * rnd.random(),
                                  "boundingbox": _box(rnd, 0.1, 0.8)})
        out.append({"name": name, "confidence": conf[name], "instances": instances,
                    "parents": [{"name": p} for p in _LABEL_PARENTS.get(name, ())]})
    return out


def _moderation(rnd: random.Random) -> list[Post]:
    name, parent = _MODERATION_PICK.pick(rnd)
    c = 55.0 + 44.9 * rnd.random()
    if name == parent:
        return [{"name": name, "parentname": "", "confidence": c}]
    return [{"name": name, "parentname": parent, "confidence": c},
            {"name": parent, "parentname": "", "confidence": min(99.99, c + rnd.random())}]


def _celebrities(rnd: random.Random, faces: list[Post]) -> Post:
    recognised: list[Post] = []
    unknown: list[Post] = []
    for i, f in enumerate(faces):
        face = {"boundingbox": f["boundingbox"], "confidence": f["confidence"],
                "landmarks": f["landmarks"], "pose": f["pose"], "quality": f["quality"]}
        if i == 0 and rnd.random() < CELEBRITY_SHARE:
            name, cid, urls, _ = _CELEB_PICK.pick(rnd)
            recognised.append({"name": name, "id": cid, "urls": list(urls), "face": face,
                               "matchconfidence": 60.0 + 39.0 * rnd.random()})
        else:
            unknown.append(face)
    return {"celebrityfaces": recognised, "unrecognizedfaces": unknown,
            "orientationcorrection": None}


def analyse_photo(rnd: random.Random, width: int, height: int) -> Post:
    """The ``image_labels`` struct of one photo."""
    aspect = width / height if height else 1.0
    faces: list[Post] = []
    if rnd.random() < FACE_SHARE:
        r = rnd.random()
        count = 1 if r < 0.6 else 2 if r < 0.82 else 3 if r < 0.93 else 4
        faces = [_face_detail(rnd, aspect) for _ in range(count)]
    has_text = rnd.random() < TEXT_SHARE
    return {
        "labels": _labels(rnd, faces, has_text),
        "textdetections": _text_detections(rnd) if has_text else [],
        "facedetails": faces,
        "celebrityrecognition": _celebrities(rnd, faces) if faces else None,
        "moderationlabels": _moderation(rnd) if rnd.random() < MODERATION_SHARE else [],
        "labelmodelversion": LABEL_MODEL_VERSION,
    }


def _photo_dims(media: Post) -> tuple[int, int]:
    info = media.get("original_info")
    if info:
        return int(info["width"]), int(info["height"])
    large = media["sizes"]["large"]
    return int(large["w"]), int(large["h"])


def rekognition_rows(post: Post, rng: random.Random | None = None) -> list[Row]:
    """One ``media_rekognition`` row per photo of ``post`` (schema MEDIA_REKOGNITION).

    Without ``rng`` (the default, what the CLI does) each photo's analysis is drawn from
    a generator seeded by its media id, so re-shared photos (same media id, media_url and
    sha256) get identical analyses, as a real model would give them. With ``rng`` the
    analysis is drawn from it (re-shared photos then differ).
    """
    media = (post.get("extended_entities") or {}).get("media") or []
    rows: list[Row] = []
    for m in media:
        if m.get("type", "photo") != "photo":
            continue
        url = m.get("media_url") or m["media_url_https"]
        mid = str(m.get("id_str") or m.get("id"))
        width, height = _photo_dims(m)
        rnd = rng if rng is not None else random.Random(int(mid) if mid.isdigit() else mid)
        rows.append({
            "image_labels": analyse_photo(rnd, width, height),
            "tweetid": int(post["id"]),
            "mediaid": mid,
            "text": post.get("text"),
            "media_url": url,
            "sha256": hashlib.sha256(url.encode()).hexdigest(),
            "width": width,
            "height": height,
            "model_versions": MODEL_VERSIONS,
            "analysis_errors": [],
        })
    return rows


@contextlib.contextmanager
def _relaxed_gc() -> Iterator[None]:
    """Collect cyclic garbage less often: the corpus makes millions of acyclic dicts."""
    old = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)


# --- CLI --------------------------------------------------------------------------------------

def write_corpus(out: Path, posts: int, seed: int = 0, photo_share: float = 0.05,
                 compress: bool = False, batch_rows: int = 50_000,
                 days: int = 42) -> dict[str, float]:
    """Write ``posts.jsonl[.gz]`` and ``media_rekognition.parquet``; return counts and timings."""
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    from socialsight.lake.schema import MEDIA_REKOGNITION

    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / ("posts.jsonl.gz" if compress else "posts.jsonl")
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    n_photo_posts = n_rows = 0
    rows: list[Row] = []  # converted to Arrow every `chunk` rows to keep few dicts alive
    batches: list[pa.RecordBatch] = []  # written as one row group every `batch_rows` rows
    pending = 0
    chunk = max(1, min(5_000, batch_rows))
    parquet_s = 0.0
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_relaxed_gc())
        fh: io.BufferedIOBase
        if compress:
            fh = stack.enter_context(gzip.GzipFile(jsonl, "wb", compresslevel=3))
        else:
            fh = stack.enter_context(open(jsonl, "wb", buffering=1 << 20))
        writer = stack.enter_context(pq.ParquetWriter(
            out / "media_rekognition.parquet", MEDIA_REKOGNITION, compression="zstd"))

        def flush(final: bool) -> None:
            nonlocal rows, batches, pending, parquet_s
            t1 = time.perf_counter()
            if rows:
                batches.append(pa.RecordBatch.from_pylist(rows, schema=MEDIA_REKOGNITION))
                pending += len(rows)
                rows = []
            if batches and (final or pending >= batch_rows):
                writer.write_table(pa.Table.from_batches(batches, schema=MEDIA_REKOGNITION),
                                   row_group_size=max(pending, 1))
                batches, pending = [], 0
            parquet_s += time.perf_counter() - t1

        lines: list[bytes] = []
        for post in generate_posts(posts, seed=seed, days=days, photo_share=photo_share):
            lines.append(dumps(post, option=newline))
            if "extended_entities" in post:
                n_photo_posts += 1
                new_rows = rekognition_rows(post)
                rows.extend(new_rows)
                n_rows += len(new_rows)
                if len(rows) >= chunk:
                    flush(final=False)
            if len(lines) >= 1024:
                fh.writelines(lines)
                lines = []
        fh.writelines(lines)
        flush(final=True)
    gen_s = time.perf_counter() - t0
    return {"posts": posts, "photo_posts": n_photo_posts, "rows": n_rows,
            "seconds": gen_s, "parquet_seconds": parquet_s}


def measure_posts_rate(posts: int, seed: int = 0, photo_share: float = 0.05) -> float:
    """Posts per second of ``generate_posts`` + ``orjson.dumps`` alone (no disk, no Parquet)."""
    import orjson

    dumps = orjson.dumps
    with _relaxed_gc():
        t0 = time.perf_counter()
        for post in generate_posts(posts, seed=seed, photo_share=photo_share):
            dumps(post)
        return posts / (time.perf_counter() - t0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.split(
        "\n", 1)[0])
    parser.add_argument("--posts", type=int, required=True, help="number of posts")
    parser.add_argument("--photo-share", type=float, default=0.05,
                        help="share of posts with 1-4 photos (default 0.05)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=42, help="days the posts span")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--gzip", action="store_true", help="write posts.jsonl.gz")
    parser.add_argument("--batch-rows", type=int, default=50_000,
                        help="media_rekognition rows per Parquet row group")
    args = parser.parse_args(argv)
    stats = write_corpus(args.out, args.posts, seed=args.seed, photo_share=args.photo_share,
                         compress=args.gzip, batch_rows=args.batch_rows, days=args.days)
    secs = stats["seconds"]
    print(f"posts: {args.posts:,}  photo posts: {int(stats['photo_posts']):,}  "
          f"media_rekognition rows: {int(stats['rows']):,}")
    print(f"wrote {args.out} in {secs:.1f}s: {args.posts / secs:,.0f} posts/s overall "
          f"(Parquet conversion {stats['parquet_seconds']:.1f}s; "
          f"{args.posts / max(secs - stats['parquet_seconds'], 1e-9):,.0f} posts/s without it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
