;;; e2e.el --- Emacs 28 + eglot end-to-end test of corels.el against `corels serve'  -*- lexical-binding: t; -*-

;; Run by editors/emacs/test/run.sh:
;;   emacs -Q --batch -l e2e.el DIR/src/prog.bpf.c   (env CORELS, ROOT, EMACS_PLUGIN)
;; Scenario: eglot starts corels for the bpf-c-mode buffer (root from .corels.json),
;; diagnostics reach flymake, the quick fix from textDocument/codeAction (picked as a user
;; would, through eglot-code-actions) wraps the read, the buffer re-diagnoses, hover shows
;; the offset, a typed edit re-diagnoses, and the workspace configuration (.dir-locals.el)
;; reaches the server.  Batch mode runs no idle timers: didChange is flushed and flymake
;; started by hand while waiting.  Exit status 0 on success, 1 on a failed check.

(require 'package)
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(add-to-list 'load-path (getenv "EMACS_PLUGIN"))
(require 'corels)

(setq corels-program (getenv "CORELS")
      corels-server-args (list "serve" "--log" (getenv "CORELS_LOG"))
      corels-settings '(:kernels ["default"] :relocationHints "inlay")
      eglot-sync-connect t
      eglot-autoshutdown t
      enable-local-variables :all
      make-backup-files nil
      create-lockfiles nil
      auto-save-default nil)

(defvar corels-test--t0 (float-time))
(defvar corels-test--mode (or (getenv "MODE") "eglot"))

(defun corels-test--log (fmt &rest args)
  (message "[emacs %5.0fms] %s" (* 1000 (- (float-time) corels-test--t0)) (apply #'format fmt args)))

(defun corels-test--check (cond fmt &rest args)
  (unless cond (error "%s" (apply #'format fmt args))))

(defun corels-test--diags ()
  "corels' flymake diagnostics of the buffer as (LINE CODE MESSAGE), sorted."
  (sort (cl-loop for d in (flymake-diagnostics)
                 for lsp = (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))
                 when (and lsp (equal (plist-get lsp :source) "corels"))
                 collect (list (line-number-at-pos (flymake-diagnostic-beg d))
                               (plist-get lsp :code)
                               (flymake-diagnostic-text d)))
        (lambda (a b) (< (car a) (car b)))))

(defun corels-test--lines (code diags)
  (mapconcat (lambda (d) (number-to-string (car d)))
             (cl-remove-if-not (lambda (d) (equal (cadr d) code)) diags) ","))

(defun corels-test--wait (pred what)
  "Wait up to 15 s for PRED over the diagnostics, flushing didChange and starting flymake."
  (let ((deadline (+ (float-time) 15)) diags ok)
    (while (and (not ok) (< (float-time) deadline))
      (eglot--signal-textDocument/didChange)
      (accept-process-output nil 0.05)
      (flymake-start)
      (setq diags (corels-test--diags) ok (funcall pred diags)))
    (corels-test--check ok "timed out waiting for %s; diagnostics: %S" what diags)
    (corels-test--log "%s: %s" what
                      (mapconcat (lambda (d) (format "%d:%s" (car d) (cadr d))) diags " "))
    diags))

(defun corels-test--wait-probe-reads (want what)
  (corels-test--wait (lambda (ds) (equal (corels-test--lines "probe-read-not-relocatable" ds) want)) what))

(defun corels-test--goto (line needle)
  (goto-char (point-min))
  (forward-line (1- line))
  (corels-test--check (search-forward needle (line-end-position) t) "no %S on line %d" needle line)
  (goto-char (match-beginning 0)))

(defun corels-test--run ()
  (let* ((file (expand-file-name (car command-line-args-left)))
         (root (file-name-as-directory (getenv "ROOT"))))
    (find-file file)
    (corels-test--check (eq major-mode 'bpf-c-mode) "major mode %s, want bpf-c-mode" major-mode)
    (eglot-ensure)
    ;; eglot-ensure connects from post-command-hook, which batch mode does not run.
    (run-hooks 'post-command-hook)
    (let ((deadline (+ (float-time) 10)))
      (while (and (not (eglot-current-server)) (< (float-time) deadline))
        (accept-process-output nil 0.05)))
    (let ((server (eglot-current-server)))
      (corels-test--check server "eglot did not connect")
      (corels-test--check (equal (file-name-as-directory (project-root (eglot--project server))) root)
                          "project root %s, want %s" (project-root (eglot--project server)) root)
      (corels-test--check (eglot--server-capable :hoverProvider) "no hoverProvider")
      (corels-test--log "connected, root %s" (project-root (eglot--project server)))

      ;; 1. Diagnostics arrive.
      (let ((ds (corels-test--wait-probe-reads "30,31" "initial diagnostics")))
        (corels-test--check (= (length ds) 2) "want only the two probe-read warnings: %S" ds))

      ;; 2. The quick fix, as eglot-code-actions offers it; the user picks the wrap.
      (corels-test--goto 30 "&((struct sk_buff")
      (let* ((actions (eglot-code-actions (point) (1+ (point)) "quickfix"))
             (titles (mapcar (lambda (a) (plist-get a :title)) actions))
             (wrap (cl-find-if (lambda (title) (string-match-p "__builtin_preserve_access_index" title)) titles)))
        (corels-test--log "code actions: %S" titles)
        (corels-test--check wrap "no wrap quick fix among %S" titles)
        (cl-letf (((symbol-function 'completing-read) (lambda (&rest _) wrap)))
          (let ((last-nonmenu-event ?\r))
            (eglot--read-execute-code-action actions server "quickfix"))))
      (let ((line (save-excursion (goto-char (point-min)) (forward-line 29)
                                  (buffer-substring (point) (line-end-position)))))
        (corels-test--check (string-search "__builtin_preserve_access_index(&((struct sk_buff *)ctx->arg1)->dev)" line)
                            "line 30 after the fix: %s" line)
        (corels-test--log "fix applied: %s" (string-trim line)))

      ;; 3. Re-diagnosed: the warning on line 30 is gone; the read is now a relocation
      ;; checked against the kernel (the seed's pt_regs.arg1 is not in 6.1: core-unresolved),
      ;; and the .dir-locals.el workspace configuration (relocationHints "diagnostic")
      ;; reached the server: core-reloc hints are diagnostics.
      (let ((ds (corels-test--wait
                 (lambda (ds) (and (equal (corels-test--lines "probe-read-not-relocatable" ds) "31")
                                   (equal (corels-test--lines "core-unresolved" ds) "30")
                                   (string-match-p "30" (corels-test--lines "core-reloc" ds))))
                 "diagnostics after the fix")))
        (ignore ds))

      ;; 4. Hover on the relocated member shows its offset.
      (corels-test--goto 30 "->dev)")
      (forward-char 2)
      (let* ((hover (jsonrpc-request server :textDocument/hover (eglot--TextDocumentPositionParams)))
             (text (and hover (eglot--hover-info (plist-get hover :contents)))))
        (corels-test--check text "no hover at %d" (point))
        (corels-test--log "hover: %s" (replace-regexp-in-string "\n" " | " text))
        (corels-test--check (string-search "Local offset 8 (0x8)" text) "hover without the offset: %s" text)
        (corels-test--check (string-search "6.1.0-56-amd64" text) "hover without the kernel: %s" text))

      ;; 5. A typed edit re-diagnoses, and undoing it brings the warning back.
      (corels-test--goto 31 "&dev->ifindex")
      (let ((beg (point)))
        (insert "__builtin_preserve_access_index(")
        (search-forward "&dev->ifindex")
        (insert ")")
        (corels-test--wait-probe-reads "" "diagnostics after a typed edit")
        (goto-char beg)
        (delete-char (length "__builtin_preserve_access_index("))
        (search-forward "&dev->ifindex")
        (delete-char 1)
        (corels-test--wait-probe-reads "31" "diagnostics after undoing it"))

      ;; 6. Which files are served: C files below a bpf compile_commands.json get
      ;; bpf-c-mode and a server rooted there, other C files stay in c-mode.
      (with-current-buffer (find-file-noselect (expand-file-name "legacy/probe.c" root))
        (corels-test--check (eq major-mode 'bpf-c-mode) "legacy/probe.c in %s" major-mode)
        (eglot-ensure)
        (run-hooks 'post-command-hook)
        (let ((deadline (+ (float-time) 5)))
          (while (and (not (eglot-current-server)) (< (float-time) deadline))
            (accept-process-output nil 0.05)))
        (corels-test--check (and (eglot-current-server) (not (eq (eglot-current-server) server))) "legacy/probe.c: no server of its own")
        (corels-test--check (equal (file-name-as-directory (project-root (eglot--project (eglot-current-server))))
                                   (file-name-as-directory (expand-file-name "legacy" root)))
                            "legacy root %s" (project-root (eglot--project (eglot-current-server))))
        (corels-test--wait-probe-reads "30,31" "legacy/probe.c diagnostics")
        (eglot-shutdown (eglot-current-server)))
      (with-current-buffer (find-file-noselect (expand-file-name "other.c" root))
        (corels-test--check (eq major-mode 'c-mode) "other.c in %s" major-mode))
      (corels-test--log "legacy/probe.c served, other.c not")

      ;; 7. Shut down cleanly.
      (eglot-shutdown server)
      (corels-test--log "PASS"))))

(let ((timer (run-at-time 45 nil (lambda () (message "TIMEOUT") (kill-emacs 2)))))
  (condition-case err
      (progn (corels-test--run) (cancel-timer timer) (kill-emacs 0))
    (error (corels-test--log "FAIL: %s" (error-message-string err))
           (ignore-errors (eglot-shutdown (eglot-current-server)))
           (kill-emacs 1))))
