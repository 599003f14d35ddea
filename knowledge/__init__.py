"""Courses, providers, regulations, places and the ESCO skills taxonomy: storage, import and
export, and search in Dutch.

Importing this package registers its tables; `seed_knowledge` loads the seed data.
"""

from knowledge import models
from knowledge.catalogue import course_index, search_courses
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
from knowledge.places import Location, find_location, loket_for
from knowledge.regulations import (
    RegulationIn,
    RegulationOut,
    RegulationProblem,
    delete_regulation,
    find_regulation,
    get_regulation,
    list_regulations,
    open_alternatives,
    put_regulation,
    regulation_out,
)
from knowledge.search import CourseIndex, CourseRecord, SearchHit, SearchQuery, SearchResult
from knowledge.seed import SeedReport, seed_knowledge

__all__ = [
    "CourseDataError",
    "CourseIn",
    "CourseIndex",
    "CourseOut",
    "CourseRecord",
    "ImportFormat",
    "ImportReport",
    "Location",
    "RegulationIn",
    "RegulationOut",
    "RegulationProblem",
    "RowError",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "SeedReport",
    "course_index",
    "course_out",
    "delete_course",
    "delete_regulation",
    "export_rows",
    "find_location",
    "find_regulation",
    "get_course",
    "get_regulation",
    "import_courses",
    "list_regulations",
    "loket_for",
    "models",
    "open_alternatives",
    "parse",
    "put_course",
    "put_regulation",
    "regulation_out",
    "search_courses",
    "seed_knowledge",
    "validate_courses",
]
