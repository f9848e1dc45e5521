"""The main window: workspace navigation, menus with shortcuts, status bar, idle lock."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from clinicdesk.permissions import P
from ui.context import AppContext
from ui.idle import IdleWatcher
from ui.job_failures import JobFailuresButton
from ui.lock import LockScreen
from ui.password_dialog import ChangePasswordDialog
from ui.sync_status import SyncStatusLabel
from ui.theme import ON_DARK, icon, pixmap, set_kind
from ui.widgets.pages import PagedWorkspace
from ui.widgets.stacks import CurrentPageStack
from ui.workspaces import Workspace, available, home


def roles_text(actor) -> str:
    return ", ".join(sorted(r.label for r in actor.roles))


class MainWindow(QMainWindow):
    sign_out_requested = Signal()
    closing = Signal()

    def __init__(self, ctx: AppContext, idle_ms: int | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        ctx.notify = self.notify
        self.setWindowTitle(f"{ctx.details.name} – ClinicDesk")
        self._fit_to_screen()
        self.workspaces: list[Workspace] = available(ctx.actor)
        self.pages: dict[str, QWidget] = {}
        self._hidden_windows: list[QWidget] = []
        self._focus_before_lock: QWidget | None = None

        self.nav = QListWidget(objectName="NavList")
        self.nav.setIconSize(QSize(20, 20))
        self.stack = CurrentPageStack()
        for number, ws in enumerate(self.workspaces, start=1):
            page = ws.build(ctx)
            if hasattr(page, "details_changed"):
                page.details_changed.connect(self.set_clinic_details)
            self.pages[ws.key] = page
            self.stack.addWidget(page)
            item = QListWidgetItem(icon(ws.icon, ON_DARK), ws.title)
            if number <= 4:
                item.setToolTip(f"{ws.title} (Ctrl+{number})")
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._show_page)

        body = QWidget(objectName="Ground")
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._sidebar())
        if not self.workspaces:
            self.stack.addWidget(self._no_workspace())
        # on a screen narrower than a page (1024 px) the page scrolls; the window stays on screen
        self.page_scroll = QScrollArea(objectName="PageScroll")
        self.page_scroll.setWidget(self.stack)
        self.page_scroll.setWidgetResizable(True)
        self.page_scroll.setFrameShape(QFrame.Shape.NoFrame)
        row.addWidget(self.page_scroll, 1)
        self.setCentralWidget(body)

        self._build_menus()
        self._build_status_bar()

        self.lock_screen = LockScreen(ctx.session, ctx.tasks, self)
        self.lock_screen.unlocked.connect(self._unlocked)
        self.lock_screen.sign_out_requested.connect(self.sign_out_requested)
        minutes = ctx.details.idle_lock_minutes
        self.idle = IdleWatcher(idle_ms if idle_ms is not None else minutes * 60_000, self)
        self.idle.idle.connect(lambda: self.lock(idle=True))
        self.idle.start()
        ctx.tasks.busy_changed.connect(self.busy.setVisible)
        ctx.tasks.unhandled_error.connect(self._show_error)
        if self.workspaces:
            self.nav.setCurrentRow(home(ctx.actor, self.workspaces))

    # ---- layout ----

    def _fit_to_screen(self) -> None:
        """Open at 1280 x 800, or the whole usable screen where that is smaller (title bar and
        taskbar left out), never beyond it."""
        screen = self.screen() or QApplication.primaryScreen()
        room = screen.availableGeometry()
        frame = QSize(16, 40)  # a window manager's borders and title bar, until it reports them
        self.resize(
            min(1280, room.width() - frame.width()), min(800, room.height() - frame.height())
        )

    def _sidebar(self) -> QFrame:
        side = QFrame(objectName="Sidebar")
        side.setFixedWidth(200)  # 20 px more for the page on a 1024 px screen
        box = QVBoxLayout(side)
        box.setContentsMargins(0, 18, 0, 14)
        box.setSpacing(4)
        head = QHBoxLayout()
        head.setContentsMargins(18, 0, 12, 0)
        logo = QLabel()
        logo.setPixmap(pixmap("logo", 30, "#3fb5b3"))
        name = QLabel("<b>ClinicDesk</b>")
        head.addWidget(logo)
        head.addWidget(name, 1)
        box.addLayout(head)
        self.clinic_label = QLabel(self.ctx.details.name)
        self.clinic_label.setWordWrap(True)
        self.clinic_label.setContentsMargins(18, 2, 12, 14)
        set_kind(self.clinic_label, "muted")
        box.addWidget(self.clinic_label)
        box.addWidget(self.nav, 1)
        who = QLabel(f"{self.ctx.actor.display_name}\n{roles_text(self.ctx.actor)}")
        set_kind(who, "muted")
        who.setContentsMargins(18, 0, 12, 0)
        box.addWidget(who)
        return side

    def _no_workspace(self) -> QWidget:
        page = QLabel("Your account has no workspace yet. Ask an administrator to give you a role.")
        page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        page.setWordWrap(True)
        return page

    def _action(self, text: str, slot, shortcut: str | QKeySequence | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(
                f"{text.replace('&', '').rstrip('…')} ({action.shortcut().toString()})"
            )
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        app_menu = bar.addMenu("&ClinicDesk")
        self.change_password_action = self._action("Change &password…", self.change_password)
        self.lock_action = self._action("&Lock now", lambda: self.lock(idle=False), "Ctrl+L")
        self.sign_out_action = self._action("&Sign out", self.sign_out_requested.emit)
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        app_menu.addActions([self.change_password_action, self.lock_action])
        app_menu.addSeparator()
        app_menu.addActions([self.sign_out_action, self.quit_action])

        self.patient_actions: list[QAction] = []
        if "frontdesk" in self.pages:
            menu = bar.addMenu("&Patients")
            self.patient_actions.append(self._action("&Find patient", self.find_patient, "Ctrl+F"))
            for text, method, key in (
                ("&New patient…", "new_patient", "Ctrl+N"),
                ("&Edit patient…", "edit_selected", "Ctrl+E"),
            ):
                action = self._action(text, lambda _=False, m=method: self._front_desk(m), key)
                self.patient_actions.append(action)
            menu.addActions(self.patient_actions)
            self._build_schedule_menu()

        self.view_menu = bar.addMenu("Vie&w")  # Alt+V is "Verify chain" and "Record vitals"
        self.page_actions: list[QAction] = []
        go = bar.addMenu("&Go")
        self.workspace_actions: list[QAction] = []
        for row, ws in enumerate(self.workspaces[:4]):
            action = self._action(
                ws.title, lambda _=False, r=row: self.nav.setCurrentRow(r), f"Ctrl+{row + 1}"
            )
            go.addAction(action)
            self.workspace_actions.append(action)

    def _build_schedule_menu(self) -> None:
        """The front desk's bookings, reached from any workspace."""
        menu = self.menuBar().addMenu("&Schedule")
        entries: list[tuple[str, str, str | None] | None] = [
            ("Appointment &history…", "show_appointment_history", None),
        ]
        if self.ctx.actor.can(P.APPOINTMENTS_MANAGE):
            entries += [
                None,
                ("&Book appointment…", "book_appointment", "Ctrl+B"),
                ("Add &walk-in…", "add_walk_in", "Ctrl+W"),
                ("Needs &attention…", "show_attention", None),
            ]
        entries += [None, ("Open &waiting-room display…", "open_waiting_room", None)]
        self.schedule_actions: dict[str, QAction] = {}
        for entry in entries:
            if entry is None:
                menu.addSeparator()
                continue
            text, method, key = entry
            action = self._action(text, lambda _=False, m=method: self._front_desk(m), key)
            menu.addAction(action)
            self.schedule_actions[method] = action

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(90)
        self.busy.setAccessibleName("Working")
        self.busy.hide()
        actor = self.ctx.actor
        self.user_label = QLabel(f"{actor.display_name} · {roles_text(actor)}")
        self.status_clinic = QLabel(self.ctx.details.name)
        self.job_failures = JobFailuresButton(self.ctx)
        self.sync_status = SyncStatusLabel(self.ctx)
        bar.addPermanentWidget(self.sync_status)
        bar.addPermanentWidget(self.job_failures)
        bar.addPermanentWidget(self.busy)
        bar.addPermanentWidget(self.user_label)
        bar.addPermanentWidget(self.status_clinic)

    # ---- behaviour ----

    def _show_page(self, row: int) -> None:
        if 0 <= row < len(self.workspaces):
            page = self.pages[self.workspaces[row].key]
            self.stack.setCurrentWidget(page)
            self._list_pages_of(page)

    def _list_pages_of(self, workspace: PagedWorkspace) -> None:
        """The View menu names the shown workspace's pages with the keys that open them; the
        keys of the workspace left behind go with it."""
        for action in self.page_actions:
            self.removeAction(action)
            action.deleteLater()
        self.view_menu.clear()
        self.page_actions = [
            self._action(page.title, lambda _=False, p=page: workspace.show_page(p), page.key)
            for page in workspace.available_pages()
        ]
        self.view_menu.addActions(self.page_actions)
        self.view_menu.menuAction().setVisible(bool(self.page_actions))

    def show_workspace(self, key: str) -> QWidget | None:
        for row, ws in enumerate(self.workspaces):
            if ws.key == key:
                self.nav.setCurrentRow(row)
                return self.pages[key]
        return None

    def find_patient(self) -> None:
        """Ctrl+F: the doctor's workspace finds a patient to open their chart; any other, the
        front desk's search."""
        own = getattr(self.stack.currentWidget(), "find_patient", None)
        if own is not None:
            own()
        else:
            self._front_desk("focus_search")

    def _front_desk(self, method: str) -> None:
        page = self.show_workspace("frontdesk")
        if page is not None:
            getattr(page, method)()

    def notify(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def _show_error(self, error: BaseException) -> None:
        from ui.errors import describe

        QMessageBox.warning(self, "ClinicDesk", describe(error))

    def set_clinic_details(self, details) -> None:
        """After an admin saved the clinic settings: new name, new idle time."""
        self.ctx.details = details
        self.clinic_label.setText(details.name)
        self.status_clinic.setText(details.name)
        self.setWindowTitle(f"{details.name} – ClinicDesk")
        self.idle.set_timeout_ms(details.idle_lock_minutes * 60_000)

    def change_password(self) -> ChangePasswordDialog:
        dialog = ChangePasswordDialog(self.ctx.session, self.ctx.tasks, False, self)
        dialog.accepted.connect(lambda: self.notify("Your password was changed."))
        dialog.open()
        return dialog

    # ---- lock ----

    @property
    def locked(self) -> bool:
        return self.lock_screen.isVisible()

    def lock(self, idle: bool = False) -> None:
        if self.locked:
            return
        self.idle.stop()
        self.ctx.tasks.submit(  # this workstation's witness keeps the audit log's head
            self.ctx.session.audit.anchor, self.ctx.actor, on_error=lambda _error: None, owner=self
        )
        self._focus_before_lock = QApplication.focusWidget()
        self._hidden_windows = [
            w
            for w in QApplication.topLevelWidgets()
            if w is not self and w.isVisible() and self._owns(w)
        ]
        for window in self._hidden_windows:
            window.hide()
        self.centralWidget().setEnabled(False)
        self.menuBar().setEnabled(False)
        for action in self.actions():
            action.setEnabled(False)
        minutes = self.ctx.details.idle_lock_minutes
        self.lock_screen.lock(
            f"Locked after {minutes} minute{'s' if minutes != 1 else ''} without use, to keep "
            "patient information private."
            if idle
            else "Locked to keep patient information private while you are away."
        )

    def _owns(self, window: QWidget) -> bool:
        parent = window.parentWidget()
        while parent is not None:
            if parent is self:
                return True
            parent = parent.parentWidget()
        return False

    def _unlocked(self) -> None:
        self.centralWidget().setEnabled(True)
        self.menuBar().setEnabled(True)
        for action in self.actions():
            action.setEnabled(True)
        for window in self._hidden_windows:
            window.show()
        self._hidden_windows = []
        focus = self._focus_before_lock
        if focus is not None and focus.isVisible():
            focus.activateWindow()
            focus.setFocus()
        self.idle.start()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.lock_screen.setGeometry(self.rect())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.idle.detach()
        front_desk = self.pages.get("frontdesk")
        if front_desk is not None:
            front_desk.close_windows()
        self.closing.emit()
        super().closeEvent(event)
