"""Courses, providers, regulations, places and the ESCO skills taxonomy: storage, import and
export, and search in Dutch.

Importing this package registers its tables; `seed_knowledge` loads the seed data. `Knowledge`
is the object an app owns for search, occupations and places (the indexes live in it).
"""

from knowledge import models
from knowledge.base import Knowledge
from knowledge.courses import (
    CourseDataError,
    CourseIn,
    CourseOut,
    ImportFormat,
    ImportReport,
    RowError,
    course_out,
    delete_course,
    export_rows,
    get_course,
    import_courses,
    parse,
    put_course,
    validate_courses,
)
from knowledge.places import Location
from knowledge.regulations import (
    FactTopic,
    RegulationFact,
    RegulationIn,
    RegulationOut,
    RegulationProblem,
    StaleItem,
    delete_regulation,
    facts_of,
    find_regulation,
    get_regulation,
    list_regulations,
    named_in,
    open_alternatives,
    open_regulations,
    put_regulation,
    regulation_out,
    stale_items,
)
from knowledge.search import CourseIndex, CourseRecord, SearchHit, SearchQuery, SearchResult
from knowledge.seed import SeedReport, seed_knowledge

__all__ = [
    "CourseDataError",
    "CourseIn",
    "CourseIndex",
    "CourseOut",
    "CourseRecord",
    "FactTopic",
    "ImportFormat",
    "ImportReport",
    "Knowledge",
    "Location",
    "RegulationFact",
    "RegulationIn",
    "RegulationOut",
    "RegulationProblem",
    "RowError",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "SeedReport",
    "StaleItem",
    "course_out",
    "delete_course",
    "delete_regulation",
    "export_rows",
    "facts_of",
    "find_regulation",
    "get_course",
    "get_regulation",
    "import_courses",
    "list_regulations",
    "models",
    "named_in",
    "open_alternatives",
    "open_regulations",
    "parse",
    "put_course",
    "put_regulation",
    "regulation_out",
    "seed_knowledge",
    "stale_items",
    "validate_courses",
]
