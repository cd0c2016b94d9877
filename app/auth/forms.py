"""The forms of signing in and looking after an account."""
from __future__ import annotations

from app.auth.passwords import MAX_LENGTH
from app.web.forms import (
    FlaskForm,
    GovPasswordInput,
    GovSubmitInput,
    GovTextInput,
    InputRequired,
    Length,
    PasswordField,
    StringField,
    SubmitField,
    ValidationError,
)


def _code_field(label: str = "Code from your authenticator app",
                hint: str = "The 6-digit code the app shows now, for example 123456"):
    return StringField(label, widget=GovTextInput(), description=hint,
                       validators=[InputRequired("Enter the 6-digit code from your authenticator app"),
                                   Length(max=20, message="Enter the 6-digit code from your authenticator app")])


class SignInForm(FlaskForm):
    email = StringField("Email address", widget=GovTextInput(),
                        validators=[InputRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=MAX_LENGTH)])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    code = _code_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RecoveryCodeForm(FlaskForm):
    code = StringField("Recovery code", widget=GovTextInput(),
                       description="One of the 10 codes you saved when you set up your authenticator app, "
                                   "for example AB3DE-F6HJK. Each code works once.",
                       validators=[InputRequired("Enter one of your recovery codes"), Length(max=40)])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class LinkCodeForm(FlaskForm):
    """The code of an invitation or reset link: the page's script fills it in from the link; without the script the
    person pastes it from the email."""
    token = StringField("Code from your email", widget=GovTextInput(),
                        description="If this box is empty, copy the code from the email you were sent and paste it "
                                    "here",
                        validators=[InputRequired("Enter the code from your email"),
                                    Length(max=100, message="Enter the code from your email")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ReauthenticateForm(FlaskForm):
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=MAX_LENGTH)])
    code = _code_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    """Choose a password: through a one-time link, or when changing it."""

    password = PasswordField("New password", widget=GovPasswordInput(),
                             description="At least 12 characters. A few unrelated words are easy to remember and "
                                         "hard to guess. Do not use the name of this service or your agency.",
                             validators=[InputRequired("Enter a new password"),
                                         Length(max=MAX_LENGTH, message=f"Password must be {MAX_LENGTH} characters "
                                                                        "or fewer")])
    confirm = PasswordField("Confirm new password", widget=GovPasswordInput(),
                            validators=[InputRequired("Enter the new password again"), Length(max=MAX_LENGTH)])
    code = StringField("Code from your authenticator app, or a recovery code", widget=GovTextInput(),
                       description="Needed because your account has a second factor",
                       validators=[Length(max=40)])
    submit = SubmitField("Set password", widget=GovSubmitInput())

    def validate_confirm(self, field):
        if self.password.data and field.data != self.password.data:
            raise ValidationError("The passwords do not match")


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", widget=GovPasswordInput(),
                            validators=[InputRequired("Enter your current password"), Length(max=MAX_LENGTH)])
    code = None  # signed in already: the current password is what proves it is them
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only posts: for actions confirmed on their own page."""

    submit = SubmitField("Continue", widget=GovSubmitInput())
