(* The bundled example unikernel: MirageOS 4 "hello" (mirage-skeleton's
   tutorial/hello). `mirage configure -t <target>` reads this file. *)
open Mirage

let main = main "Unikernel.Hello" job ~packages:[ package "duration" ]
let () = register "hello" [ main ]
