"""Logos in photos: an enrolled logo image found again by its local features.

No offline package ships a logo model, so a brand's logo mark is found the way a
person would check it: the distinctive corners and blobs of the logo image (SIFT
keypoints and their descriptors, OpenCV) are looked for among a photo's, and a logo
counts as found only when enough of them agree on one geometric transform of the
logo into the photo (a homography, RANSAC) whose shape is plausible — a convex
quadrilateral that is not folded, squashed or larger than the photo. That holds
whatever the logo's size, rotation, perspective and lighting, and when part of it
is hidden. Keypoints are found on the photo's luminance and on its two colour-opponent
planes (at half the size: JPEG keeps colour at half resolution), so a logo whose parts
differ in hue but not in brightness (a colour wheel, a gradient mark) is not one flat
disc; a feature only matches logo features of its own plane.

- :func:`photo_features` of a photo are kept with its analysis
  (``media_rekognition.local_features``, :meth:`Features.to_bytes`), so a logo
  enrolled later is looked for in every past photo without decoding one again.
- :func:`logo_features` of a logo image: the logo drawn at several sizes, on white
  and on black (a logo with transparency may sit on either), sharp and slightly
  blurred, so a logo a few dozen pixels wide, or out of focus, in a photo still meets
  features of its own scale.
- :class:`Matcher` holds every enrolled logo in one nearest-neighbour index a plane and
  answers :meth:`Matcher.find` for a photo's features: one :class:`Found` per brand
  seen, with its box and a confidence from the number of agreeing features.

OpenCV comes with rapidocr (a dependency) and is imported where used.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from socialsight.errors import InputError

# Besides luminance, SIFT on colour-opponent channels: a logo whose parts differ in hue
# but not in brightness (a colour wheel) is one flat disc in gray. Features of each channel
# are matched only against the logo's features of the same channel; the matches are
# pooled per logo before they must agree on its place.
COLOUR_FEATURES = 1000  # keypoints kept per colour channel of a photo
# bump with any change to what photo_features / logo_features give
VERSION = "sift-opp-2"
LOGO_VERSION = "sift-logo-opp-1"
MAX_SIDE = 1024  # a photo's long side is brought down to this before its features are found
COLOUR_SIDE = 512  # and the colour planes' to half the luminance's, and at most this
# (JPEG keeps colour at half resolution: a smaller photo's colour has no finer detail)
MAX_FEATURES = 2000  # the strongest this many keypoints of a photo are kept
LOGO_SIDES = (48, 96, 192, 384)  # the long sides a logo is drawn at when enrolled
LOGO_BLURS = (0.0, 1.2)  # and sharp, and softened as a photo's focus and JPEG soften it
LOGO_FEATURES = 600  # keypoints kept per drawing of a logo
MIN_LOGO_KEYPOINTS = 16  # a logo with fewer (at its largest drawing) cannot be found again
RATIO = 0.8  # Lowe's ratio test: best match this much closer than the next distinct one
MIN_INLIERS = 7  # features that must agree on the logo's place
REPROJECTION = 4.0  # pixels (in the photo as analysed) a feature may miss its place by
MAX_SKEW = 3.0  # how much perspective may stretch one side of a logo against the opposite
MIN_SHARE = 0.03  # of the photo's features inside the placed logo, the share that must agree
MIN_COVER = 0.05  # the agreeing features span at least this share of the logo's area
EXACT_UP_TO = 6000  # logo features searched exhaustively; beyond, approximately (FLANN)
NEIGHBOURS = 6  # nearest logo features looked at for each photo feature
CHUNK = 1024  # photo features searched together (bounds the search's memory)
# FLANN's random trees are drawn from OpenCV's shared generator, whose state every
# earlier draw in the process moved: seeded, the same logos give the same index, and a
# photo the same matches in enrich, in a rescan and in the next run
FLANN_SEED = 17
HALF_CONFIDENCE = 8  # agreeing features beyond MIN_INLIERS for half the way to 100
_MAGIC = b"SSLF1"
_MAGIC2 = b"SSLF2"  # as SSLF1, with one channel byte a keypoint after the points
_HEADER = struct.Struct("<5sHHI")  # magic, width, height, count
_SCALE = 32.0  # points are stored as uint16 in 1/32 pixel


def _cv2() -> Any:
    import cv2

    cv2.setNumThreads(1)  # one photo per worker process: its own threads would fight them
    return cv2


@functools.cache
def _sift(features: int) -> Any:
    return _cv2().SIFT_create(nfeatures=features)


@dataclass(frozen=True)
class Features:
    """A photo's keypoints (pixels of the photo as analysed, ``width`` x ``height``) and
    their SIFT descriptors (uint8, 128 each)."""

    points: np.ndarray  # [N, 2] float32
    descriptors: np.ndarray  # [N, 128] uint8
    width: int
    height: int
    channel: np.ndarray | None = field(default=None, compare=False)  # [N] uint8; None: 0s

    def __len__(self) -> int:
        return len(self.points)

    def channels(self) -> np.ndarray:
        """Which image each feature was found on: 0 luminance, 1 and 2 the colour ones."""
        if self.channel is None:
            return np.zeros(len(self.points), np.uint8)
        return self.channel

    def to_bytes(self) -> bytes:
        """Compact bytes (4 + 128 bytes a keypoint, + 1 with colour): what the lake keeps."""
        count = len(self.points)
        points = np.clip(np.round(self.points * _SCALE), 0, 65535).astype("<u2")
        channel = self.channels()
        coloured = bool(channel.any())
        return (_HEADER.pack(_MAGIC2 if coloured else _MAGIC, self.width, self.height, count)
                + points.tobytes()
                + (np.ascontiguousarray(channel, dtype=np.uint8).tobytes() if coloured else b"")
                + np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Features:
        """The features :meth:`to_bytes` wrote; an :class:`InputError` for anything else."""
        if len(data) < _HEADER.size:
            raise InputError("local features: too short to be socialsight's")
        magic, width, height, count = _HEADER.unpack_from(data)
        if magic not in (_MAGIC, _MAGIC2):
            raise InputError("local features: not socialsight's (or of another version)")
        extra = 1 if magic == _MAGIC2 else 0
        need = _HEADER.size + count * (4 + extra + 128)
        if len(data) != need:
            raise InputError(f"local features: {len(data)} bytes where {need} were expected")
        start = _HEADER.size
        points = np.frombuffer(data, "<u2", count * 2, start).reshape(count, 2)
        channel = (np.frombuffer(data, np.uint8, count, start + count * 4) if extra else None)
        descriptors = np.frombuffer(data, np.uint8, count * 128, start + count * (4 + extra))
        return cls(points.astype(np.float32) / _SCALE, descriptors.reshape(count, 128),
                   width, height, channel)


def _gray(image: Image.Image, max_side: int) -> np.ndarray:
    """``image`` as 8-bit gray, its long side brought down to ``max_side``."""
    gray = image.convert("L")
    scale = max_side / max(gray.size)
    if scale < 1:
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.BOX)
    return np.asarray(gray)


def _opponent(rgb: np.ndarray) -> list[np.ndarray]:
    """The colour-opponent planes of an RGB image as 8-bit images, mid-gray where it is
    gray: O1 = (R - G) / 2 and O2 = (R + G - 2B) / 4 (each spans 0-255 about 128).
    Linear in RGB, so relighting only scales them (SIFT's descriptor ignores that), and
    white, black and gray plates add no colour edges."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    return [np.clip(np.rint(128.0 + plane), 0, 255).astype(np.uint8)
            for plane in ((r - g) / 2, (r + g - 2 * b) / 4)]


def _colour_planes(image: Image.Image, max_side: int) -> list[np.ndarray]:
    """The colour-opponent planes (:func:`_opponent`) of ``image``, its long side brought
    down to ``max_side``."""
    rgb = image.convert("RGB")
    scale = max_side / max(rgb.size)
    if scale < 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BOX)
    return _opponent(np.asarray(rgb))


def _detect(gray: np.ndarray, features: int) -> tuple[np.ndarray, np.ndarray]:
    keypoints, descriptors = _sift(features).detectAndCompute(gray, None)
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8)
    points = np.asarray([k.pt for k in keypoints], dtype=np.float32)
    return points, np.clip(np.round(descriptors), 0, 255).astype(np.uint8)


def photo_features(image: Image.Image, colour: bool = True) -> Features:
    """The local features of a photo (its long side at most :data:`MAX_SIDE`): of its
    luminance, and of its colour-opponent planes (at half that size, at most
    :data:`COLOUR_SIDE`) unless ``colour`` is false."""
    gray = _gray(image, MAX_SIDE)
    side = min(COLOUR_SIDE, max(1, max(gray.shape) // 2))
    planes = [gray, *(_colour_planes(image, side) if colour else [])]
    if len(planes) == 1:
        points, descriptors = _detect(planes[0], MAX_FEATURES)
        return Features(points, descriptors, planes[0].shape[1], planes[0].shape[0])
    found = [_detect(plane, MAX_FEATURES if c == 0 else COLOUR_FEATURES)
             for c, plane in enumerate(planes)]
    for c in range(1, len(found)):  # points in the luminance plane's pixels
        if planes[c].shape != planes[0].shape:
            scale = np.asarray([planes[0].shape[1] / planes[c].shape[1],
                                planes[0].shape[0] / planes[c].shape[0]], np.float32)
            found[c] = (found[c][0] * scale, found[c][1])
    channel = np.concatenate([np.full(len(p), c, np.uint8) for c, (p, _) in enumerate(found)])
    return Features(np.concatenate([p for p, _ in found]),
                    np.concatenate([d for _, d in found]),
                    planes[0].shape[1], planes[0].shape[0], channel)


@dataclass(frozen=True)
class Logo:
    """An enrolled logo's features, their points in the logo's own pixels (``width`` x
    ``height``, the image as given)."""

    points: np.ndarray  # [N, 2] float32
    descriptors: np.ndarray  # [N, 128] uint8
    width: int
    height: int
    channel: np.ndarray | None = field(default=None, compare=False)  # [N] uint8; None: 0s

    def _features(self) -> Features:
        return Features(self.points, self.descriptors, self.width, self.height, self.channel)

    def channels(self) -> np.ndarray:
        return self._features().channels()

    def to_bytes(self) -> bytes:
        return self._features().to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Logo:
        f = Features.from_bytes(data)
        return cls(f.points, f.descriptors, f.width, f.height, f.channel)


def logo_features(image: Image.Image) -> Logo:
    """The features of a logo image, drawn at :data:`LOGO_SIDES` on white and on black.

    An :class:`InputError` when the logo has too little detail to be found again (a
    plain shape, a blank image): better to say so at enrolment than to find it nowhere.
    """
    rgba = image.convert("RGBA")
    box = rgba.getchannel("A").getbbox()
    if box is None:
        raise InputError("the logo image is fully transparent")
    rgba = rgba.crop(box)
    width, height = rgba.size
    points, descriptors, channels, richest = [], [], [], 0
    for side in LOGO_SIDES:
        scale = side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        drawn = rgba.resize(size, Image.Resampling.LANCZOS)
        for ground in ((255, 255, 255, 255), (0, 0, 0, 255)):
            plate = Image.new("RGBA", (size[0] + 16, size[1] + 16), ground)
            plate.alpha_composite(drawn, (8, 8))
            gray, rgb = plate.convert("L"), plate.convert("RGB")
            for blur in LOGO_BLURS:
                soft = gray.filter(ImageFilter.GaussianBlur(blur)) if blur else gray
                softer = rgb.filter(ImageFilter.GaussianBlur(blur)) if blur else rgb
                planes = [np.asarray(soft), *_colour_planes(softer, 1 << 30)]
                drawing = []
                for c, plane in enumerate(planes):
                    found, desc = _detect(plane, LOGO_FEATURES)
                    points.append((found - 8) / scale)
                    descriptors.append(desc)
                    channels.append(np.full(len(found), c, np.uint8))
                    drawing.append(found)
                if side == LOGO_SIDES[-1] and not blur:
                    richest = max(richest, len(drawing[0]), _places(drawing[1:], drawing[0]))
    if richest < MIN_LOGO_KEYPOINTS:
        raise InputError(f"the logo has too little detail to be recognised ({richest} "
                         "keypoints at its largest): enrol a larger or more detailed image, or "
                         "the brand by its words alone")
    channel = np.concatenate(channels)
    return Logo(np.concatenate(points).astype(np.float32), np.concatenate(descriptors),
                width, height, channel if channel.any() else None)


def _places(colour: list[np.ndarray], gray: np.ndarray) -> int:
    """How many distinct places (4 px apart) the keypoints of every plane are at, when
    there are colour planes: a plain shape has the same few corners in each; a logo whose
    parts differ only in hue has places no gray keypoint is at."""
    if not colour:
        return 0
    places = np.zeros((0, 2), np.float32)
    for point in np.concatenate([gray, *colour]):
        if not len(places) or float(np.min(np.hypot(*(places - point).T))) >= 4:
            places = np.vstack([places, point])
    return len(places)


@dataclass(frozen=True)
class Found:
    """A brand's logo in a photo: its name, confidence (0–100) and box (relative 0–1:
    left, top, width, height)."""

    name: str
    confidence: float
    box: tuple[float, float, float, float]
    inliers: int


def confidence(inliers: int) -> float:
    """How sure (0–100) a match is, from the features that agree on it: 50 at
    :data:`MIN_INLIERS`, three quarters of the way at ``2 * HALF_CONFIDENCE`` more."""
    extra = max(0, inliers - MIN_INLIERS)
    return round(100.0 - 50.0 * 0.5 ** (extra / HALF_CONFIDENCE), 1)


def _plausible(corners: np.ndarray, logo: Logo, width: int, height: int) -> bool:
    """Whether the logo's corners, carried into the photo, make a shape a logo can have
    there: convex, not flipped, not squashed past what perspective does, of a size
    between a few pixels and the photo."""
    cv2 = _cv2()
    quad = corners.reshape(4, 2).astype(np.float32)
    if not cv2.isContourConvex(quad):
        return False
    area = _signed_area(quad)
    if area <= 0:  # the corners turn the other way round: a mirror image, not a logo
        return False
    if area < 64 or area > 1.2 * width * height:
        return False
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    if sides.min() < 4:
        return False
    # opposite sides keep about their length; the aspect stays near the logo's
    if max(sides[0] / sides[2], sides[2] / sides[0], sides[1] / sides[3],
           sides[3] / sides[1]) > MAX_SKEW:
        return False
    aspect = ((sides[0] + sides[2]) / (sides[1] + sides[3])) / (logo.width / logo.height)
    return 1 / MAX_SKEW <= aspect <= MAX_SKEW


class Matcher:
    """Every enrolled logo in one nearest-neighbour index per channel (exact, or FLANN
    over the descriptors when there are many)."""

    def __init__(self, logos: Mapping[str, Sequence[Logo]]) -> None:
        self.logos: list[tuple[str, Logo]] = [(name, logo) for name, items in logos.items()
                                              for logo in items]
        owners, points, descriptors, channels = [], [], [], []
        for index, (_, logo) in enumerate(self.logos):
            owners.append(np.full(len(logo.points), index, dtype=np.int32))
            points.append(logo.points)
            descriptors.append(logo.descriptors)
            channels.append(logo.channels())
        self.owner = np.concatenate(owners) if owners else np.zeros(0, np.int32)
        self.points = np.concatenate(points) if points else np.zeros((0, 2), np.float32)
        self.channel = np.concatenate(channels) if channels else np.zeros(0, np.uint8)
        descriptors_all = (np.concatenate(descriptors).astype(np.float32) if descriptors
                           else np.zeros((0, 128), np.float32))
        # per channel: the global indexes of its logo features, and their descriptors
        # how far apart two points of a logo are to be two features, not one drawn twice
        self._apart = np.asarray([0.05 * math.hypot(logo.width, logo.height)
                                  for _, logo in self.logos] or [0.0], dtype=np.float32)
        self._channels: dict[int, _Index] = {}
        for c in np.unique(self.channel):
            ids = np.flatnonzero(self.channel == c)
            self._channels[int(c)] = _Index(ids, descriptors_all[ids], self.owner[ids],
                                            self.points[ids], self._apart)

    def __len__(self) -> int:
        return len(self.logos)

    def _candidates(self, photo: Features) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per enrolled logo, its (logo feature, photo feature) index pairs that pass the
        ratio test against the next neighbour that is a *different* feature (another
        logo, or a point of the same logo far enough away: the logo's drawings at several
        sizes give near-twins of each feature, which must not count against it). A photo
        feature is one logo feature's match at most, of the same channel; the pairs of
        every channel are pooled."""
        if len(photo) < MIN_INLIERS or len(self.owner) < 2:
            return {}
        pooled: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        photo_channel = photo.channels()
        for c, index in self._channels.items():
            mine = np.flatnonzero(photo_channel == c)
            if len(mine) == 0 or len(index.ids) < 2:
                continue
            for owner, pair in self._ratio(index, photo.descriptors[mine], mine).items():
                pooled.setdefault(owner, []).append(pair)
        return {owner: (np.concatenate([t for t, _ in pairs]),
                        np.concatenate([q for _, q in pairs]))
                for owner, pairs in pooled.items()}

    def _ratio(self, index: _Index, descriptors: np.ndarray,
               photo_ids: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        k = min(NEIGHBOURS, len(index.ids))
        if index.exact:
            return self._ratio_exact(index, descriptors.astype(np.float32), photo_ids, k)
        found = index.nearest(descriptors.astype(np.float32), k)
        if found is None:
            return {}
        train, distance, query = found
        train, query = index.ids[train], photo_ids[query]
        owner = self.owner[train]
        apart = self._apart[owner[:, :1]]
        far = np.linalg.norm(self.points[train] - self.points[train[:, :1]], axis=2)
        distinct = (owner != owner[:, :1]) | (far >= apart)
        distinct[:, 0] = False
        # the first distinct neighbour, or none (then the match stands)
        has = distinct.any(axis=1)
        first = np.where(has, distinct.argmax(axis=1), 0)
        second = distance[np.arange(len(train)), first]
        keep = ~has | (distance[:, 0] < RATIO * second)
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        kept_owner = owner[keep, 0]
        for index_ in np.unique(kept_owner):
            mine = kept_owner == index_
            out[int(index_)] = (train[keep, 0][mine], query[keep][mine])
        return out

    def _ratio_exact(self, index: _Index, queries: np.ndarray, photo_ids: np.ndarray,
                     k: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """:meth:`_ratio` by exhaustive search, without sorting any neighbours: the
        nearest logo feature of each photo feature, and the nearest that is *distinct*
        from it (not one of its near-twins, :meth:`_Index.twins`); the ratio test
        applies when fewer than ``k`` near-twins of the nearest come before that distinct
        one (as when the ``k`` nearest are looked at in order), otherwise the match
        stands. A photo feature costs one row of a matrix product and two minimums
        (sorting every row's ``k`` nearest was most of a rescan's time). Photo features
        go :data:`CHUNK` at a time."""
        if not len(queries):
            return {}
        starts, twin_ids = index.twins()
        trains, queries_kept = [], []
        for start in range(0, len(queries), CHUNK):
            chunk = queries[start:start + CHUNK]
            # |d|^2 - 2 q.d for every pair: the squared distance less the query's own
            # |q|^2, which orders each row the same
            ranked = index.ranked(chunk)
            rows = np.arange(len(chunk))
            best = ranked.argmin(axis=1)
            first = ranked[rows, best]
            # every (row, twin of its nearest) pair; the nearest is its own first twin
            counts = starts[best + 1] - starts[best]
            twin_rows = np.repeat(rows, counts)
            twin_cols = twin_ids[np.repeat(starts[best], counts)
                                 + np.arange(counts.sum()) - np.repeat(np.cumsum(counts)
                                                                      - counts, counts)]
            kept = ranked[twin_rows, twin_cols]
            ranked[twin_rows, twin_cols] = np.inf
            second = ranked.min(axis=1)
            closer_twins = np.bincount(twin_rows, weights=kept < second[twin_rows],
                                       minlength=len(chunk))
            has = np.isfinite(second) & (closer_twins < k)
            own = np.einsum("ij,ij->i", chunk, chunk)
            first_distance = np.sqrt(np.maximum(first + own, 0.0))
            second_distance = np.sqrt(np.maximum(np.where(has, second, 0.0) + own, 0.0))
            keep = ~has | (first_distance < RATIO * second_distance)
            trains.append(index.ids[best[keep]])
            queries_kept.append(photo_ids[start:start + CHUNK][keep])
            del ranked  # freed before the next chunk's is made
        train = np.concatenate(trains)
        query = np.concatenate(queries_kept)
        owner_of = self.owner[train]
        return {int(o): (train[owner_of == o], query[owner_of == o])
                for o in np.unique(owner_of)}

    def find(self, photo: Features) -> list[Found]:
        """The enrolled brands whose logo the photo shows, most sure first (one box a
        brand: its best logo)."""
        best: dict[str, Found] = {}
        for owner, (train, query) in self._candidates(photo).items():
            if len(train) < MIN_INLIERS:
                continue
            name, logo = self.logos[owner]
            found = _place(name, logo, self.points[train], photo.points[query], photo)
            if found is not None and (name not in best or found.inliers > best[name].inliers):
                best[name] = found
        return sorted(best.values(), key=lambda f: (-f.confidence, f.name))


class _Index:
    """The logo features of one channel: their global indexes, and a search over their
    descriptors: exhaustive (:meth:`ranked`, :meth:`twins`) up to :data:`EXACT_UP_TO`
    features, FLANN's approximate one (:meth:`nearest`) beyond."""

    def __init__(self, ids: np.ndarray, descriptors: np.ndarray, owners: np.ndarray,
                 points: np.ndarray, apart: np.ndarray) -> None:
        """``ids``: the features' global indexes; ``owners`` and ``points``: their logos
        and places there, in the same order; ``apart``: each logo's near-twin distance."""
        self.ids = ids
        self._descriptors = descriptors
        self._owners, self._points, self._apart = owners, points, apart
        self._index: Any = None
        self.exact = len(descriptors) <= EXACT_UP_TO  # few logos: exact search is quicker
        self._ranking: np.ndarray | None = None
        self._twins: tuple[np.ndarray, np.ndarray] | None = None

    def twins(self) -> tuple[np.ndarray, np.ndarray]:
        """Each feature's near-twins, as row starts and local indexes (CSR): the features
        of the same logo closer to it than that logo's ``apart`` (its drawings at several
        sizes, grounds and sharpnesses give each point a few), itself first."""
        if self._twins is None:
            mine, where = self._owners, self._points
            lists: list[np.ndarray] = []
            for local in range(len(self.ids)):
                same = np.flatnonzero(mine == mine[local])
                near = same[np.hypot(*(where[same] - where[local]).T) < self._apart[mine[local]]]
                lists.append(np.concatenate([[local], near[near != local]]))
            starts = np.cumsum([0] + [len(x) for x in lists])
            self._twins = (starts.astype(np.int64), np.concatenate(lists).astype(np.int64))
        return self._twins

    def ranked(self, queries: np.ndarray) -> np.ndarray:
        """``|d|^2 - 2 q.d`` for every query ``q`` and every feature ``d``: each row's
        squared distances less the query's own ``|q|^2``, by one matrix product (the
        features times -2, with their squared norms as a 129th column)."""
        if self._ranking is None:
            norms = np.einsum("ij,ij->i", self._descriptors, self._descriptors)
            self._ranking = np.ascontiguousarray(np.concatenate(
                [-2.0 * self._descriptors, norms[:, np.newaxis]], axis=1).T, dtype=np.float32)
        ones = np.ones((len(queries), 1), np.float32)
        return np.asarray(np.concatenate([queries, ones], axis=1) @ self._ranking)

    def _flann(self) -> Any:
        if self._index is None:
            cv2 = _cv2()
            index = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 4}, {"checks": 48})
            index.add([self._descriptors])
            cv2.setRNGSeed(FLANN_SEED)
            index.train()
            self._index = index
        return self._index

    def nearest(self, queries: np.ndarray,
                k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The ``k`` nearest features (local indexes) of each query by FLANN, nearest
        first, their distances, and the queries that have ``k`` (the search is
        approximate); an index of :data:`EXACT_UP_TO` features or fewer is searched by
        :meth:`ranked` instead."""
        matches = self._flann().knnMatch(queries, k=k)
        full = [near for near in matches if len(near) == k]
        if not full:
            return None
        train = np.asarray([[m.trainIdx for m in near] for near in full], dtype=np.int64)
        distance = np.asarray([[m.distance for m in near] for near in full], dtype=np.float32)
        query = np.asarray([near[0].queryIdx for near in full], dtype=np.int64)
        return train, distance, query


def _place(name: str, logo: Logo, source: np.ndarray, target: np.ndarray,
           photo: Features) -> Found | None:
    """Where the matched features put the logo in the photo, if they agree on a place a
    logo can have. A similarity (scale, turn, shift: two matches a guess) finds the
    matches that agree, quickly even when most do not; a homography fitted to those
    then allows for perspective and counts every match that agrees with it."""
    cv2 = _cv2()
    source = source.reshape(-1, 1, 2).astype(np.float32)
    target = target.reshape(-1, 1, 2).astype(np.float32)
    similar, mask = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=2 * REPROJECTION,
        maxIters=1000, confidence=0.995)
    if similar is None or mask is None or int(mask.sum()) < MIN_INLIERS:
        return None
    agree = mask.ravel() > 0
    homography, _ = cv2.findHomography(source[agree], target[agree], cv2.RANSAC,
                                       2 * REPROJECTION)
    if homography is None:
        return None
    placed_all = cv2.perspectiveTransform(source, homography)
    agree = np.linalg.norm((placed_all - target).reshape(-1, 2), axis=1) < REPROJECTION
    inliers = int(agree.sum())
    if inliers < MIN_INLIERS:
        return None
    corners = np.asarray([[0, 0], [logo.width, 0], [logo.width, logo.height],
                          [0, logo.height]], dtype=np.float32).reshape(-1, 1, 2)
    placed = cv2.perspectiveTransform(corners, homography)
    if not _plausible(placed, logo, photo.width, photo.height):
        return None
    # the agreeing features must cover the logo, not one corner of it
    spread = source[agree].reshape(-1, 2)
    cover = np.ptp(spread[:, 0]) * np.ptp(spread[:, 1]) / (logo.width * logo.height)
    if cover < MIN_COVER:
        return None
    # and be a fair share of the photo's features where the logo is placed: a page of
    # text has features of letters everywhere, of which a few agree with a word mark
    inside = cv2.pointPolygonTest
    quad = placed.reshape(4, 2).astype(np.float32)
    left, top = quad.min(axis=0)
    right, bottom = quad.max(axis=0)
    near = photo.points[(photo.points[:, 0] >= left) & (photo.points[:, 0] <= right)
                        & (photo.points[:, 1] >= top) & (photo.points[:, 1] <= bottom)]
    there = sum(1 for x, y in near if inside(quad, (float(x), float(y)), False) >= 0)
    if inliers < MIN_SHARE * there:
        return None
    return Found(name, confidence(inliers), _box(placed, photo.width, photo.height), inliers)


def _signed_area(quad: np.ndarray) -> float:
    """The shoelace area of a quadrilateral, positive when its corners turn as the
    logo's own (left top, right top, right bottom, left bottom) do."""
    x, y = quad[:, 0].astype(np.float64), quad[:, 1].astype(np.float64)
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0


def _box(corners: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    quad = corners.reshape(4, 2)
    left, top = max(0.0, float(quad[:, 0].min())), max(0.0, float(quad[:, 1].min()))
    right = min(float(width), float(quad[:, 0].max()))
    bottom = min(float(height), float(quad[:, 1].max()))
    return (round(left / width, 5), round(top / height, 5),
            round(max(0.0, right - left) / width, 5), round(max(0.0, bottom - top) / height, 5))
