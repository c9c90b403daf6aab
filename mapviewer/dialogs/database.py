"""File > Open Database...: the dialog, the password question, and the status bar's database line.

:func:`install_database_menu` gives a window its :class:`~mapviewer.files.database.DatabaseSource`
(``window.database``), the menu entries, the "N new events since you opened" line with its
"Show them" button, and the line saying a connection was lost.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from geodata.db.connect import display_uri, is_uri
from geodata.text import visible_text
from mapviewer.files.database import AUTO_INCLUDE_KEY, DatabaseSource, keyring_module, recent_databases

ADDRESS_HINT = "postgresql://user@host:5432/dbname"


class OpenDatabaseDialog(QDialog):
    """Asks for a database address; the recent ones (never with a password) are offered."""

    def __init__(self, recent: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open Database")
        self.address = QComboBox()
        self.address.setEditable(True)
        self.address.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.address.addItems([visible_text(u) for u in recent])
        self.address.lineEdit().setPlaceholderText(ADDRESS_HINT)
        self.address.setMinimumWidth(460)
        note = QLabel("A PostgreSQL + PostGIS database set up with 'mapviewer db init'. The password comes from "
                      "~/.pgpass, PGPASSWORD or a service file, or is asked for when the server wants one; it is "
                      "never saved with the address.")
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.PlainText)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setStyleSheet("color: #a00;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Database address:"))
        layout.addWidget(self.address)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def uri(self) -> str:
        return self.address.currentText().strip()

    def _on_accept(self) -> None:
        if not is_uri(self.uri()):
            self.problem.setText(f"Not a database address: it starts with postgresql:// ({ADDRESS_HINT})")
            return
        self.accept()


class PasswordDialog(QDialog):
    """Asks for a password (kept in memory; in the system keyring only when ticked and installed)."""

    def __init__(self, shown: str, refused: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Database password")
        text = QLabel(("The password was refused. " if refused else "") + f"Password for {shown}:")
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember it in the system keyring")
        self.remember.setVisible(keyring_module() is not None)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.password)
        layout.addWidget(self.remember)
        layout.addWidget(buttons)


def ask_password(parent: QWidget, shown: str, refused: bool) -> tuple[str, bool] | None:
    """(password, remember in the keyring) or None when the person cancels."""
    dialog = PasswordDialog(shown, refused, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.password.text():
        return None
    return dialog.password.text(), dialog.remember.isChecked() and dialog.remember.isVisible()


class DatabaseBar(QWidget):
    """In the status bar: "N new events since you opened" with "Show them", and a lost connection."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.connection = QLabel()
        self.connection.setTextFormat(Qt.TextFormat.PlainText)
        self.connection.setStyleSheet("color: #a00;")
        self.new_events = QLabel()
        self.new_events.setTextFormat(Qt.TextFormat.PlainText)
        self.show_button = QPushButton("Show them")
        self.show_button.setToolTip("Add the events imported since the database was opened; filters and map stay")
        self.show_button.clicked.connect(lambda: window.database.include_new())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.connection)
        layout.addWidget(self.new_events)
        layout.addWidget(self.show_button)
        window.state.database_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        database = self.window.database
        n = database.new_count if database.uri else 0
        self.new_events.setText(f"{n:,} new event{'s' if n != 1 else ''} since you opened")
        self.new_events.setVisible(n > 0)
        self.show_button.setVisible(n > 0)
        self.connection.setText(visible_text(database.connection_text))
        self.connection.setVisible(bool(database.connection_text))
        self.setVisible(n > 0 or bool(database.connection_text))


class _CloseWatcher(QObject):
    """Stops listening and waits for the questions under way when the window closes."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.window.database.close()
            self.window.database.wait()
        return False


def install_database_menu(window) -> DatabaseSource:
    """Give ``window`` its database source, File > Open Database... and the status bar's database line."""
    source = DatabaseSource(window.state, window.settings, window)
    window.database = source
    source.ask_password = lambda shown, refused: (ask_password(window, shown, refused)
                                                  if window.show_messages else None)
    source.map_size = lambda: (window.map_view.width(), window.map_view.height())
    source.status = lambda text: window.statusBar().showMessage(visible_text(text), 10000)
    source.failed.connect(lambda shown, message: _on_failed(window, shown, message))

    window.open_database_action = QAction("Open &Database...", window)
    window.open_database_action.setToolTip("Open a team database (PostgreSQL + PostGIS) by its address")
    window.open_database_action.triggered.connect(lambda: _on_open_database(window))
    window.include_new_action = QAction("Include new database events automatically", window, checkable=True)
    window.include_new_action.setToolTip("Events colleagues import into the open database appear at once "
                                         "(otherwise the status bar offers them)")
    window.include_new_action.setChecked(window.settings.value(AUTO_INCLUDE_KEY, False, type=bool))
    window.include_new_action.toggled.connect(lambda on: window.settings.setValue(AUTO_INCLUDE_KEY, on))
    before = window.recent_menu.menuAction()
    window.file_menu.insertAction(before, window.open_database_action)
    window.file_menu.insertAction(before, window.include_new_action)

    window.database_bar = DatabaseBar(window)
    window.statusBar().addPermanentWidget(window.database_bar)
    window.installEventFilter(_CloseWatcher(window))
    return source


def _on_open_database(window) -> None:
    dialog = OpenDatabaseDialog(recent_databases(window.settings), window)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        window.database.open(dialog.uri())


def _on_failed(window, shown: str, message: str) -> None:
    window.load_failed.emit(display_uri(shown) if shown else "", message)
    window.show_error("Database", message, "The data already open are unchanged.")
