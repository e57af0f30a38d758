"""The users and the label schema the service tests act with."""

from curation import LabelSchema
from review_app.auth import User

ANA = User("ana", "annotator")
BEN = User("ben", "annotator")
RITA = User("rita", "reviewer")
ADAM = User("adam", "admin")
SCHEMA = LabelSchema(labels=("billing", "login", "shipping"))
