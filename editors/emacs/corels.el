;;; corels.el --- eglot setup for corels, the CO-RE language server for eBPF C  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1") (eglot "1.9"))
;; Keywords: languages, c, tools

;;; Commentary:

;; (require 'corels) and eglot runs `corels serve' for eBPF C files:
;;
;;   (add-to-list 'load-path "/path/to/corels/editors/emacs")
;;   (require 'corels)
;;   (add-hook 'bpf-c-mode-hook #'eglot-ensure)
;;   (setq corels-settings '(:kernels ["default" "/sys/kernel/btf/vmlinux"]))
;;
;; eBPF C files get `bpf-c-mode' (a `c-mode' with its own eglot entry, so clangd keeps the
;; other C files): `*.bpf.c', and C files below a compile_commands.json whose commands
;; target bpf.  The server is told languageId "c".  The project root is the nearest
;; directory holding compile_commands.json, .corels.json or .git.
;;
;; Settings reach the server two ways:
;; - `corels-settings' (a plist) as initializationOptions;
;; - `eglot-workspace-configuration' (section :corels), e.g. in .dir-locals.el:
;;     ((bpf-c-mode . ((eglot-workspace-configuration
;;                      . (:corels (:kernels ["btf/*.btf"] :relocationHints "inlay"))))))
;; Keys: :kernels (files, globs, directories, "default"), :compileFlags, :relocationHints
;; ("diagnostic", "inlay" or "off"), :vmlinuxFallback (t or :json-false).

;;; Code:

(require 'cl-lib)
(require 'project)
(require 'eglot)

(defgroup corels nil
  "CO-RE relocations for eBPF C programs, through eglot."
  :group 'eglot
  :prefix "corels-")

(defcustom corels-program "corels"
  "The corels binary: a name on `exec-path' or an absolute file name."
  :type 'string)

(defcustom corels-server-args '("serve")
  "Arguments that start the language server."
  :type '(repeat string))

(defcustom corels-settings nil
  "Settings sent as initializationOptions, a plist.
For example (:kernels [\"default\"] :compileFlags [\"-I\" \"include\"]
:relocationHints \"inlay\" :vmlinuxFallback t)."
  :type 'plist)

(defcustom corels-root-markers '("compile_commands.json" ".corels.json" ".git")
  "Files whose nearest directory is the project root for eglot."
  :type '(repeat string))

;;;###autoload
(define-derived-mode bpf-c-mode c-mode "BPF-C"
  "Major mode for eBPF C programs: `c-mode', served by corels through eglot.")

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.bpf\\.c\\'" . bpf-c-mode))

(defvar corels--bpf-db (make-hash-table :test 'equal)
  "compile_commands.json file -> (MTIME . TARGETS-BPF).")

(defun corels-targets-bpf-p (file)
  "Non-nil if the compile_commands.json FILE compiles for the bpf target."
  (let ((mtime (file-attribute-modification-time (file-attributes file)))
        (cached (gethash file corels--bpf-db)))
    (if (and cached (equal (car cached) mtime))
        (cdr cached)
      (let ((yes (with-temp-buffer
                   (insert-file-contents file)
                   (goto-char (point-min))
                   (and (re-search-forward "--?target[\", =]+bpf" nil t) t))))
        (puthash file (cons mtime yes) corels--bpf-db)
        yes))))

(defun corels-bpf-file-p (file)
  "Non-nil if corels should analyse FILE."
  (and file
       (or (string-match-p "\\.bpf\\.c\\'" file)
           (and (string-match-p "\\.[ch]\\'" file)
                (let ((dir (locate-dominating-file file "compile_commands.json")))
                  (and dir (corels-targets-bpf-p
                            (expand-file-name "compile_commands.json" dir))))))))

(defun corels--maybe-bpf-c-mode ()
  "Switch a `c-mode' buffer visiting an eBPF C file to `bpf-c-mode'."
  (when (and (eq major-mode 'c-mode) (corels-bpf-file-p buffer-file-name))
    (bpf-c-mode)))

(add-hook 'c-mode-hook #'corels--maybe-bpf-c-mode)

(defun corels-root (file)
  "The project root for FILE: the nearest directory with a `corels-root-markers' file."
  (let ((dir (file-name-directory (expand-file-name file))))
    (or (locate-dominating-file
         dir (lambda (d) (cl-some (lambda (m) (file-exists-p (expand-file-name m d)))
                                  corels-root-markers)))
        dir)))

(defun corels-project-find (dir)
  "A `project-find-functions' member: eglot's project for eBPF C buffers."
  (when (and (boundp 'eglot-lsp-context) eglot-lsp-context (derived-mode-p 'bpf-c-mode))
    (cons 'transient (expand-file-name (corels-root (or buffer-file-name dir))))))

(add-hook 'project-find-functions #'corels-project-find)

(defun corels--settings-json ()
  "`corels-settings' as a JSON object (an empty object when unset)."
  (or corels-settings eglot--{}))

(defun corels-contact (&optional _interactive)
  "The eglot contact: `corels serve' with `corels-settings' as initializationOptions."
  (append (list (or (executable-find corels-program) corels-program))
          corels-server-args
          (list :initializationOptions (lambda (_server) (corels--settings-json)))))

(add-to-list 'eglot-server-programs '((bpf-c-mode :language-id "c") . corels-contact))

(defun corels-relocs ()
  "List the CO-RE relocations of this file (`corels relocs') in a compilation buffer."
  (interactive)
  (unless buffer-file-name (user-error "Buffer is not visiting a file"))
  (compilation-start (mapconcat #'shell-quote-argument
                                (list corels-program "relocs" buffer-file-name) " ")
                     'compilation-mode (lambda (_) "*corels relocs*")))

(provide 'corels)
;;; corels.el ends here
